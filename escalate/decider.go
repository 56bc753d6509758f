package escalate

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/execgate/execgate/internal/resolve"
)

// Exec is one program start the sandboxed shell asked about, as the server
// understood it: File is absolute and cleaned (a relative request is resolved
// against Workdir): it is the name rules match. Argv is what the shell asked
// the program to receive (Argv[0] included: an escalated program gets
// Decision.Argv0 instead) and Workdir is the absolute directory it would
// start in, as the request said.
type Exec struct {
	File    string
	Argv    []string
	Workdir string
	// Env is what the shell's environment adds to the server's if the
	// program is escalated (EnvPolicy.FromShell): sorted NAME=VALUE
	// entries, for a prompt to show. The escalated program gets exactly
	// Options.Env's Environ(Env).
	Env []string
	// Pid is the process that asked (the creator of the exec's stream
	// socket, SO_PEERCRED, in the server's pid namespace), 0 if unknown:
	// the process that execs the program when the answer is Run.
	Pid  int
	prog *program // nil for an Exec made outside a session
}

// Program is the file that runs if this exec is escalated: File with every
// symbolic link followed, once per exec, in the server's view, refusing
// paths the sandbox could make lead elsewhere (see internal/resolve). A
// Decider that needs the real location (program trust) asks here, so what
// it checks is what runs. The error says why the exec cannot be escalated.
func (e Exec) Program() (string, error) {
	if e.prog == nil {
		return resolveProgram(e.File, nil)
	}
	e.prog.once.Do(func() { e.prog.path, e.prog.err = resolveProgram(e.File, e.prog.roots) })
	return e.prog.path, e.prog.err
}

// program is an Exec's program, resolved on first use and shared by the
// Exec's copies.
type program struct {
	roots []string // the session's writable roots
	once  sync.Once
	path  string
	err   error
}

func resolveProgram(file string, roots []string) (string, error) {
	f, err := resolve.Open(file, roots)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if !f.IsRegular() {
		return "", fmt.Errorf("%s: not a regular file", file)
	}
	return f.Path, nil
}

// Decision is the answer for one exec: the Decider's, which the session
// sends (unless it overrides it, see Record) and hands to OnDecision, so
// the record of an exec is made from the very answer the shell got.
// Reason is sent to the wrapper only for Deny (it prints "Execution
// denied: REASON"); for Run and Escalate it is kept for the record (for
// example why a prompt was answered). Note is sent only with Run: an
// execgate wrapper prints it on the program's stderr.
type Decision struct {
	Action Action
	// Rule names the rule that decided, as FILE:LINE:COL, for the record;
	// it is never sent.
	Rule   string
	Reason string
	Note   string
	// Argv0 is, for Escalate, the argv[0] the program gets: the name the
	// deciding rule matched. Empty means the base name of Exec.File. The
	// request's own argv[0] is never used: multi-call programs (git,
	// busybox) choose what to do by it.
	Argv0 string
	// Env are NAME=VALUE entries set, for Escalate, over the program's
	// environment after everything else (Options.Env): what the Decider
	// chose for this one program, such as the repository a trusted git
	// must use. Nothing from the shell overrides them. An invalid entry
	// makes the session deny the exec.
	Env []string
}

// denied is d overridden by the session: Deny for reason, keeping the rule
// that had decided for the record.
func (d Decision) denied(reason string) Decision {
	return Decision{Action: Deny, Reason: reason, Rule: d.Rule}
}

// argv0 is the argv[0] an escalated e gets under d.
func (d Decision) argv0(e Exec) string {
	if d.Argv0 != "" {
		return d.Argv0
	}
	return filepath.Base(e.File)
}

// A Decider decides each exec. Decide may block (for a user prompt): every
// exec has its own goroutine, so others keep being served meanwhile. It must
// return promptly once ctx is done, since Session.Serve waits for it.
type Decider interface {
	Decide(ctx context.Context, e Exec) Decision
}

// DeciderFunc adapts a function to Decider.
type DeciderFunc func(ctx context.Context, e Exec) Decision

// Decide calls f.
func (f DeciderFunc) Decide(ctx context.Context, e Exec) Decision { return f(ctx, e) }

// Record is what Options.OnDecision receives for every exec that got an
// answer. Decision is the answer actually sent: the Decider's, unless the
// session overrode it (a program or workdir that fails its check, or a
// limit reached, turns Escalate into a Deny that keeps the Decider's Rule)
// or never asked (an invalid request is a Deny with no rule).
type Record struct {
	Exec     Exec
	Decision Decision
	// Program and Argv are, for Escalate, what runs outside the sandbox:
	// the resolved file and the argument vector it gets.
	Program string
	Argv    []string
}

// Options configure a Session. The zero value is usable: logs are
// discarded, and escalated commands get only ShellDefaults, from the
// request's environment.
type Options struct {
	// Logger receives the session's diagnostics: peers that break the
	// protocol (warn), escalated commands' ends (debug). Nil discards them.
	Logger *slog.Logger
	// Env builds an escalated command's environment (the server's, plus
	// what it lets through from the request's); nil is the zero EnvPolicy.
	Env *EnvPolicy
	// OnDecision, if set, is called once per answered exec, from that exec's
	// goroutine (so concurrently), before the answer is sent.
	OnDecision func(Record)
	// WritableRoots are the resolved directories the sandbox can write: an
	// escalated program or workdir reached through a symbolic link inside
	// one of them is refused (the sandbox could re-point it).
	WritableRoots []string
	// Reaper is the executable that plays the per-call reaper when run as
	// `REAPER escalate-reaper` (see ReaperMain); empty means this process's
	// own executable.
	Reaper string
	// Limits, if set, is shared by every session of a server and bounds
	// what they hold together; nil gives this session bounds of its own.
	Limits *Limits
}

func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (o *Options) env() *EnvPolicy {
	if o.Env != nil {
		return o.Env
	}
	return &EnvPolicy{}
}

// Waiting tells the session whose exec is being decided with ctx that the
// Decider is about to wait for something slow, such as a person's answer.
// Deciding runs on the goroutine that accepts the shell's execs, so a
// Decider that may block must call Waiting first: the session then accepts
// the shell's later execs on another goroutine, and withdraws the decision
// (ends ctx with a cause saying the wrapper hung up) if the shell stops
// waiting for it. Calling it again, or with a context that does not come
// from a session, does nothing.
func Waiting(ctx context.Context) {
	if w, ok := ctx.Value(waitingKey{}).(interface{ start() }); ok {
		w.start()
	}
}

type waitingKey struct{}
