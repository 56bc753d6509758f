// Package server is execgate's front end: one shell call end to end (Execute
// over an Engine), the MCP server on stdio (`execgate server`), the terminal
// runner (`execgate run`) and `execgate doctor`.
//
// The execution engine (sandbox helper + escalate session + patched Bash,
// each exec decided by the policy) plugs in through NewEngine; everything
// around it (argument checks, timeouts that pause during prompts, prompts,
// output capture, results, Codex's sandbox state, decision logging) lives
// here.
package server

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/execgate/execgate/engine"
	"github.com/execgate/execgate/server/stdio"
)

// setup parses flags and builds the logger, decision log and engine shared
// by `server` and `run`. A non-negative code means: exit with it now.
func setup(cmd string, args []string, stderr io.Writer) (opts *engine.Options, log *slog.Logger, dlog *engine.DecisionLog, eng *engine.Engine, cleanup func(), code int) {
	opts, err := parseOptions(cmd, args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil, nil, nil, nil, nil, 0
	}
	if err != nil {
		return nil, nil, nil, nil, nil, 2
	}
	// config.toml may set the log level and the audit log: apply it before
	// either is set up (NewEngine applies it again, reporting problems).
	_, _, _ = engine.ApplyConfig(opts)
	log = newLogger(stderr, opts.LogLevel)
	cleanup = func() {}
	var audit *engine.AuditFile
	if opts.AuditLog != "" {
		f, err := engine.OpenAuditFile(opts.AuditLog)
		if err != nil {
			log.Error("cannot open the audit log (flag --audit-log)", "error", err)
			return nil, nil, nil, nil, nil, 1
		}
		audit, cleanup = f, func() { f.Close() }
	} else if opts.AuditRequired {
		log.Error("flag --audit-required needs an audit log (flag --audit-log or [execgate] audit_log)")
		return nil, nil, nil, nil, nil, 2
	}
	dlog = engine.NewDecisionLog(log, audit)
	dlog.Required = opts.AuditRequired
	eng, err = engine.New(opts, log)
	if err != nil {
		log.Error("cannot start the execution engine", "error", err)
		cleanup()
		return nil, nil, nil, nil, nil, 1
	}
	if cmd == "server" {
		eng.LogRules(log)
	}
	closeAudit := cleanup
	cleanup = func() {
		if err := eng.Close(); err != nil {
			log.Warn("cleaning up the execution engine", "error", err)
		}
		closeAudit()
	}
	return opts, log, dlog, eng, cleanup, -1
}

// ServeMain is `execgate server`: the MCP server on stdin/stdout. It returns
// 0 when the client closes stdin (or on SIGINT/SIGTERM) after cleanup.
func ServeMain(args []string) int {
	oneProcessor()
	opts, log, dlog, eng, cleanup, code := setup("server", args, os.Stderr)
	if code >= 0 {
		return code
	}
	defer cleanup()
	srv, err := newServer(opts, eng, log, dlog)
	if err != nil {
		log.Error("cannot create the MCP server", "error", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A second signal while stopping ends the process at once.
	context.AfterFunc(ctx, stop)
	stdin, restore := pollableStdin()
	defer restore()
	err = srv.Run(ctx, &stdio.Transport{Reader: stdin, Writer: os.Stdout, Logger: log, Reading: srv.memory.serving})
	switch {
	case err == nil, errors.Is(err, io.EOF):
		log.Debug("client disconnected")
		return 0
	case ctx.Err() != nil:
		log.Info("stopped by signal; every call was cancelled and its processes killed")
		return 0
	default:
		log.Error("MCP session failed", "error", err)
		return 1
	}
}

// InstallHelpersMain is `execgate install-helpers DIR`, which `make install`
// runs for PREFIX/libexec/execgate: it puts there the execve wrapper and
// the helpers of this execgate binary exactly as the server would run them,
// and a server started as PREFIX/bin/execgate then uses them from there
// rather than making a private copy (which needs a writable $HOME or
// $XDG_RUNTIME_DIR).
func InstallHelpersMain(args []string) int {
	if len(args) != 1 || args[0] == "" || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(os.Stderr, "usage: execgate install-helpers DIR")
		return 2
	}
	self, err := os.Executable()
	if err == nil {
		// Readable by all: an install serves every user of the machine.
		err = os.MkdirAll(args[0], 0o755)
	}
	if err == nil {
		err = engine.InstallHelpers(args[0], self)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "execgate install-helpers %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// Exit statuses of `execgate run` besides the script's own (and
// engine.ExitTimeout).
const (
	exitCannotRun = 126 // the engine could not run the script at all
	exitSignal    = 130 // interrupted
)

// RunMain is `execgate run [flags] -- SCRIPT`: runs one script through the
// same machinery, streaming its output to the terminal and asking approvals
// on /dev/tty, and exits with the script's status (124 on timeout).
func RunMain(args []string) int {
	oneProcessor()
	opts, _, dlog, eng, cleanup, code := setup("run", args, os.Stderr)
	if code >= 0 {
		return code
	}
	defer cleanup()
	if !opts.Verbose {
		// On a terminal, a line per program start buries the script's
		// own output: only denials and prompted decisions show.
		dlog.Routine = slog.LevelDebug
	}
	workdir := opts.Workdir
	if workdir == "" {
		workdir = "."
	}
	workdir, err := filepath.Abs(workdir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "execgate run: flag --workdir: %v\n", err)
		return 2
	}
	if err := engine.ValidateWorkdir(workdir); err != nil {
		fmt.Fprintf(os.Stderr, "execgate run: flag --%v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runScript(ctx, eng, opts, dlog, workdir, &ttyPrompter{RulesFile: opts.DefaultRulesFile()}, os.Stdout, os.Stderr)
}

// runScript is RunMain after setup: it runs opts.Script in workdir, streams
// output to tee and returns the exit status.
func runScript(ctx context.Context, eng engine.Executor, opts *engine.Options, dlog *engine.DecisionLog, workdir string, tty *ttyPrompter, tee, stderr io.Writer) int {
	cwd, err := os.Getwd()
	if err != nil {
		cwd = workdir
	}
	res, err := engine.Execute(ctx, eng, opts, dlog, engine.Request{
		ID:        "run",
		Command:   opts.Script,
		Workdir:   workdir,
		Login:     true,
		Mode:      opts.Sandbox,
		Workspace: []string{cwd},
		Prompter:  tty,
		Tee:       tee,
	})
	// Errors and notes may quote the script's paths and commands.
	if err != nil {
		fmt.Fprintf(stderr, "execgate run: %s\n", engine.Printable(err.Error()))
		return exitCannotRun
	}
	if res.Note != "" {
		fmt.Fprintf(stderr, "execgate run: %s\n", engine.Printable(res.Note))
	}
	switch {
	case res.TimedOut:
		fmt.Fprintf(stderr, "execgate run: timed out after %v\n", opts.Timeout)
		return engine.ExitTimeout
	case ctx.Err() != nil:
		return exitSignal
	}
	return res.ExitCode
}
