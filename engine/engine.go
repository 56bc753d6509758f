package engine

import (
	"context"
	"io"
	"log/slog"

	"github.com/execgate/execgate/escalate"
)

// Call is one validated shell call, as the execution engine receives it from
// either front end (the MCP server or `execgate run`).
type Call struct {
	ID      string // for logs and the audit file
	Command string // the Bash script
	Workdir string // absolute, an existing directory (checked)
	Login   bool   // start from the login environment (login_linux.go), not bare

	// Mode is the sandbox mode from the flags (a Mode* constant); Sandbox,
	// when non-nil, is Codex's sandbox state for this call (per-call _meta,
	// else the last codex/sandbox-state/update) and takes precedence: its
	// Policy is for the sandbox package to decode.
	Mode    string
	Sandbox *SandboxState
	// Workspace is the writable workspace: the client's MCP roots, else
	// Codex's sandboxCwd, else the server's cwd. Absolute paths.
	Workspace []string

	// Budget is the call's timeout. It runs from the start of the call and
	// pauses while Prompter is asking. When Budget.Expired() fires the engine
	// must kill every process of the call (sandboxed and escalated) and
	// report TimedOut.
	Budget *Budget
	// Prompter asks the user about an exec (a prompt rule, or a dangerous
	// command with no rule). It already pauses Budget, expires, and denies
	// when the client cannot prompt.
	Prompter Prompter
	// Output receives the call's stdout and stderr, one pipe for both. It
	// never blocks for long nor fails, and bounds its own memory.
	Output io.Writer
	// Decisions receives every exec decision (logged and audited as recorded).
	Decisions *Decisions
	Log       *slog.Logger
}

// Outcome is what the engine reports; the front end adds the output, the
// duration and the decisions.
type Outcome struct {
	ExitCode int
	TimedOut bool
	// Note reports what the exit code cannot (a background job killed after
	// Bash exited, the call cancelled by the client).
	Note string
}

// Executor runs a call end to end: sandbox helper + escalate session +
// patched Bash, deciding each exec with the policy. Exec returns an error
// only when the call could not run at all (the error text reaches the
// agent); a timeout or cancellation is an Outcome. When Exec returns, no
// process of the call may be left.
type Executor interface {
	Exec(ctx context.Context, call *Call) (Outcome, error)
}

// New builds the execution engine for opts: it merges config.toml into
// opts for the flags not in opts.Explicit, finds and probes the patched
// Bash (refusing an unpatched one), installs the execve wrapper in a
// private runtime directory, loads the rules and probes the sandbox. The
// Engine's Exec starts the sandbox helper with Bash under an
// escalate.Session that decides each exec (policy + trust + heuristics +
// call.Prompter) and records it in call.Decisions. Close removes the
// runtime directory.
func New(opts *Options, log *slog.Logger) (*Engine, error) {
	return newEngine(opts, log, opts.Executable)
}

// Ask prompts the user about one exec (a prompt rule, or a dangerous command
// where it would run unconfined; see decider) and reports whether the
// user accepted (allow once or always). A refusal, an unknown answer, a
// failed prompt and a call that cannot prompt are not accepted, and the
// answer's Reason then says why, for the wrapper's "Execution denied"
// line. Ask is where a prompter's failure turns into that denial. The answer is returned so the engine can add the allow rule on
// AlwaysAllow.
func (c *Call) Ask(ctx context.Context, req PromptRequest) (PromptAnswer, bool) {
	if c.Prompter == nil {
		return PromptAnswer{Answer: Deny, Reason: "no way to ask the user"}, false
	}
	// A person takes a while: the shell's other execs must not wait behind.
	escalate.Waiting(ctx)
	ans, err := c.Prompter.Prompt(ctx, req)
	switch {
	case err != nil && ctx.Err() != nil:
		return PromptAnswer{Answer: Deny, Reason: "prompt abandoned: " + context.Cause(ctx).Error()}, false
	case err != nil:
		return PromptAnswer{Answer: Deny, Reason: "could not ask the user: " + err.Error()}, false
	}
	switch ans.Answer {
	case AllowOnce, AlwaysAllow:
		return ans, true
	default:
		if ans.Reason == "" {
			ans.Reason = "not approved"
		}
		return ans, false
	}
}
