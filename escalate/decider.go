package escalate

import (
	"context"
	"log/slog"
)

// Exec is one program start the sandboxed shell asked about, as the server
// understood it: File is absolute and cleaned (a relative request is resolved
// against Workdir), Argv is exactly what the program would receive (Argv[0]
// included) and Workdir is the absolute directory it would start in.
type Exec struct {
	File    string
	Argv    []string
	Workdir string
	// Env is what the shell's environment adds to the server's if the
	// program is escalated (EnvPolicy.FromShell): sorted NAME=VALUE
	// entries, for a prompt to show. The escalated program gets exactly
	// Options.Env's Environ(Env).
	Env []string
}

// Decision is a Decider's answer. Reason is sent to the wrapper only for
// Deny (it prints "Execution denied: REASON"); for Run and Escalate it is
// kept for the record (for example the rule that matched). Note is sent
// only with Run: an execgate wrapper prints it on the program's stderr.
type Decision struct {
	Action Action
	Reason string
	Note   string
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
// answer. Decision is the answer actually sent: it differs from the
// Decider's when the session overrode it (a workdir that fails its re-check
// turns Escalate into Deny; so does an invalid request).
type Record struct {
	Exec     Exec
	Decision Decision
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
