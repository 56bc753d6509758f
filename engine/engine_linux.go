package engine

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/companion"
	"github.com/execgate/execgate/policy"
	"github.com/execgate/execgate/repotrust"
	"github.com/execgate/execgate/sandbox"
)

// Engine is the execution Engine: each call runs the patched Bash under the
// sandbox helper, with an escalate session deciding every exec.
type Engine struct {
	opts     *Options
	log      *slog.Logger
	cfg      *policy.Config
	home     string // configuration home (rules, always-allow)
	bash     bashProbe
	bashFrom string // where the Bash was found
	bashID   fileID
	self     string // the execgate binary
	// The wrapper lives in helperDir: PREFIX/libexec/execgate where
	// `make install` put it, or a private runtime directory made at startup.
	wrapper     string
	helperDir   string
	helpersFrom string
	// nsexec is the sandbox launcher ("" when there is none: no call runs).
	nsexec string
	// helpersMu guards what checkHelpers reads and remakeRuntimeDir changes.
	helpersMu sync.Mutex
	wrapID    fileID
	nsexecID  fileID
	runDir    string   // private; removed by Close ("" if none was made)
	runLock   *os.File // held while runDir is in use (see removeStale)
	// sources are the rules layers every call shares; stores add each
	// call's project layer (see projectStore).
	sources  policy.Sources
	stores   *stores
	cwd      string // the server's, for startup notes and doctor
	launcher *sandbox.Launcher
	// env is the server's environment without the escalate wiring, the
	// base of each call's Bash environment.
	env []string
	// escEnv builds an escalated command's environment: the server's, plus
	// the few presentation variables the shell may set and those
	// [execgate] escalated_env_allow adds.
	escEnv *escalate.EnvPolicy
	// repos learns what every call's sandbox keeps read-only, and decides
	// where programs that run repository code may be escalated.
	repos        *repotrust.Registry
	repoPrograms repotrust.Programs
	askUntrusted bool // [execgate] untrusted_repository = "ask"
	askDangerous bool // [execgate] dangerous_commands = "ask"
	approvals    approvals
	// roots are the writable roots the sandbox has had since startup:
	// no policy file may lie where one of them lets the sandbox write.
	roots  rootHistory
	warned onceSet
	// reaper plays each call's escalate reaper (see reaperBinary), for
	// the reason reaperWhy gives; limits bound the escalate sessions of
	// all calls together.
	reaper, reaperWhy string
	limits            escalate.Limits
	// noted logs each project rules note once; bounded, since every
	// directory an agent names as workdir may have one.
	noted onceSet

	// logins are the login-environment snapshots login calls start from.
	logins *loginEnvs

	// startRules is the policy a call in the server's directory got at
	// startup, for the startup log line (logRules).
	startRules *policy.Policy
	// rules reports each change of a store's rules once (rulechanges.go).
	rules ruleWatch

	closeOnce sync.Once
}

// newEngine builds the engine. self is the execgate binary that plays the
// reaper and (without --execve) the wrapper; empty means os.Executable.
func newEngine(opts *Options, log *slog.Logger, self string) (*Engine, error) {
	cfg, warnings, err := ApplyConfig(opts)
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		log.Warn(w)
	}
	home, err := opts.Home()
	if err != nil {
		return nil, err
	}
	if self == "" {
		if self, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("locating the execgate binary (escalate reaper, execve wrapper): %w", err)
		}
	}
	if self, err = filepath.Abs(self); err != nil {
		return nil, err
	}
	e := &Engine{opts: opts, log: log, cfg: cfg, home: home, noted: onceSet{max: maxNotes}}
	ok := false
	defer func() {
		if !ok {
			e.Close()
		}
	}()

	if e.cwd, err = os.Getwd(); err != nil {
		return nil, fmt.Errorf("current directory: %w", err)
	}
	found, err := findBash(opts.Bash, os.Getenv, self, e.cwd)
	if err != nil {
		return nil, err
	}
	e.bashFrom = found.source
	if e.bash, err = probeBash(context.Background(), found.path); err != nil {
		return nil, err
	}
	if !e.bash.Sticky {
		log.Warn("this Bash stops intercepting execs when a script unsets EXEC_WRAPPER; execgate's patch does not", "bash", e.bash.Path, "hint", bashBuildHint)
	}
	if e.bashID, err = statID(e.bash.Path); err != nil {
		return nil, err
	}

	// execgate itself plays, under the name codex-execve-wrapper, the
	// wrapper: the link installed beside execgate, else one in a private
	// runtime directory. (The reaper: see reaperBinary below; the sandbox
	// helper is the launcher.)
	e.self = self
	if e.wrapper, err = e.setupWrapper(self, log); err != nil {
		return nil, err
	}
	if e.wrapID, err = statID(e.wrapper); err != nil {
		return nil, err
	}

	// Every call starts through the sandbox launcher, which sets up its
	// sandbox and supervises it; without one no call runs (the launcher's
	// probe says so).
	if e.nsexec, err = companion.Path(companion.NSExec, e.bash.Path, self); err != nil {
		log.Error("no sandbox launcher: no call will run until it is built (make bash)", "error", err)
		e.nsexec = ""
	}
	if e.nsexec != "" {
		if e.nsexecID, err = statID(e.nsexec); err != nil {
			return nil, err
		}
	}
	e.reaper, e.reaperWhy = reaperBinary(self, e.bash.Path, log)
	e.launcher = sandbox.NewLauncher(log, sandbox.NamespaceLauncher(e.nsexec), sandbox.MaxProcesses(opts.MaxProcesses))
	if e.repoPrograms, err = repositoryPrograms(cfg); err != nil {
		return nil, err
	}
	e.repos = repotrust.NewRegistry(e.repoPrograms, os.Environ())
	e.launcher.Observe(e.repos.Observe)
	e.askUntrusted = cfg.Execgate.UntrustedRepository == "ask"
	e.askDangerous = cfg.Execgate.DangerousCommands == "ask"

	// The shared layers load once; each call adds the rules of its own
	// project (projectStore). The server's cwd (e.cwd) is where doctor
	// looks, and its project is loaded now so that a broken rules file
	// there is reported at startup, as it was when the project was fixed at
	// start.
	e.sources = policy.Sources{SystemDir: opts.systemDir, Home: home, ProjectRootMarkers: cfg.ProjectRootMarkers, Config: cfg, Extra: opts.Rules}
	// Nothing the sandbox could have written is loaded (selfapproval_linux.go).
	e.roots.add(startupRoots(opts.WritableRoots))
	if err := e.checkPolicyFiles(e.roots.with(nil)); err != nil {
		return nil, err
	}
	if err := e.checkAuditLog(e.roots.with(nil)); err != nil {
		return nil, err
	}
	storeOpts := policy.StoreOptions{CheckInterval: rulesCheckInterval, Home: home, Vet: e.vetRulesFiles}
	if e.stores, err = newStores(context.Background(), e.sources, storeOpts); err != nil {
		return nil, err
	}
	store := e.stores.base
	// Roots that cannot be computed here fail the calls that would use
	// them, with the reason; they must not stop the server.
	if roots, err := trustRoots(e.defaultSpec(log)); err != nil {
		log.Debug("project rules of the current directory not preloaded", "error", err)
	} else if store, err = e.projectStore(context.Background(), e.cwd, roots); err != nil {
		return nil, err
	}
	p, _ := store.Policy(context.Background())
	for _, w := range p.Warnings() {
		log.Warn(w)
	}
	e.startRules = p
	// The rules as loaded are what later changes are measured against.
	e.rules.changes(context.Background(), e.stores.base, log)
	e.rules.changes(context.Background(), store, log)

	// A helper for the configured mode starts now, ahead of the first
	// call, and each call leaves one ready for the next: a call then
	// does not wait for the helper's process start.
	e.launcher.Prepare(e.defaultSpec(log))

	e.env = shellBaseEnv(os.Environ())
	e.logins = newLoginEnvs(e.runDir, e.bash.Path, e.env, log)
	// An escalated command finds its helpers and its configuration the
	// way the server would, not the way the sandboxed script says.
	if e.escEnv, err = escalate.NewEnvPolicy(os.Environ(), cfg.Execgate.EscalatedEnvAllow); err != nil {
		path, _ := opts.ConfigFile()
		return nil, fmt.Errorf("config %s: execgate.escalated_env_allow: %w", path, err)
	}
	log.Debug("execution engine ready", "bash", e.bash.Path, "wrapper", e.wrapper, "helpers", e.helpersFrom, "helper_dir", e.helperDir)
	ok = true
	return e, nil
}

// rulesCheckInterval rate-limits the rules files' change checks.
const rulesCheckInterval = 200 * time.Millisecond

// Close ends the spare sandbox helpers and removes the engine's private
// runtime directory.
func (e *Engine) Close() error {
	var err error
	e.closeOnce.Do(func() {
		if e.launcher != nil {
			e.launcher.Close()
		}
		if e.runDir != "" {
			err = os.RemoveAll(e.runDir)
		}
		if e.runLock != nil {
			e.runLock.Close()
		}
	})
	return err
}

// shellBaseEnv drops the escalate wiring a server started from an
// intercepted shell would pass on: the call sets its own.
func shellBaseEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case escalate.EnvSocket, escalate.EnvWrapper, escalate.EnvLegacyWrapper:
			continue
		}
		out = append(out, kv)
	}
	return out
}

// LogRules logs, in one line, where the rules come from and what was
// loaded: the first thing to check when rules seem to be ignored (an MCP
// client that does not pass CODEX_HOME on).
func (e *Engine) LogRules(log *slog.Logger) {
	files := e.startRules.Files()
	msg := "rules loaded"
	if len(files) == 0 {
		msg = "no rules files found; if your rules live elsewhere, name their home with --codex-home or CODEX_HOME in the client's env"
	}
	log.Info(msg, "home", e.home, "home_from", homeSource(e.opts), "rules", e.startRules.Len(), "files", files)
}
