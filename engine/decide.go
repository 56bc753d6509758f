package engine

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/policy"
)

// decider decides the execs of one call:
//
//	forbidden rule                 Deny, with the rule's justification
//	allow rule                     Escalate (outside the sandbox)
//	prompt rule                    ask; accepted: Escalate, else Deny
//	no rule, dangerous command     Run (sandboxed) without asking; where
//	                               there is no sandbox, ask (dangerous.go)
//	no rule                        Run (sandboxed)
//
// and records each answer the session sent in the call's Decisions. An
// Escalate of a program that runs repository code (git; see repocheck.go)
// needs a trusted repository; in another it runs sandboxed, or asks first.
// An allow rule escalating a dangerous command it does not name asks first
// too.
type decider struct {
	call  *Call
	store *policy.Store // the call's: shared rules and its project's
	// amend writes an "always allow" rule where every store sees it.
	amend     func(tokens []string) error
	approvals *approvals
	// roots are the resolved paths a sandboxed command can write: a
	// basename rule never applies to a program there (the session refuses
	// programs reached through a symlink there; see escalate.Exec.Program).
	roots    []string
	preserve bool // --preserve-program-paths
	repos    repoTrust
	dangers  dangerPolicy
	log      *slog.Logger
	// warned makes each warning (a failed rules reload) once per
	// engine, not once per exec.
	warned *onceSet

	// asked remembers the Run answers the kernel gate must not ask
	// about again (see askedExecs).
	asked *askedExecs
}

func newDecider(call *Call, store *policy.Store, amend func([]string) error, ap *approvals, warned *onceSet, roots []string, preserve bool, log *slog.Logger) *decider {
	return &decider{call: call, store: store, amend: amend, approvals: ap, warned: warned, roots: roots, preserve: preserve, log: log}
}

// Decide implements escalate.Decider.
func (d *decider) Decide(ctx context.Context, ex escalate.Exec) escalate.Decision {
	var args []string
	if len(ex.Argv) > 1 {
		args = ex.Argv[1:]
	}
	v := d.evaluate(ctx, ex, args)
	dec := escalate.Decision{Rule: ruleName(v.Rule), Argv0: argv0(ex, v)}
	cmd := append([]string{ex.File}, args...)
	switch {
	case v.Decision == policy.Forbidden:
		reason := v.Justification()
		if reason == "" {
			reason = v.Reason(ex.Argv)
		}
		return answer(dec, escalate.Deny, reason)

	case v.Decision == policy.Allow:
		return d.escalateChecked(ctx, dec, ex, v.ResolvedProgram, "allowed by rule", d.uncoveredDanger(ex, args, v))

	case v.Decision == policy.Prompt && v.Source == policy.FromRule:
		if d.approvals.has(cmd) {
			return d.escalateChecked(ctx, dec, ex, v.ResolvedProgram, "approved earlier (always allow)", nil)
		}
		repo := d.repos.check(ex, v.ResolvedProgram)
		just := v.Justification()
		if repo.untrusted() {
			just = joinSentences(just, repo.promptWarning(d.repos.ask))
		}
		ans, ok := d.call.Ask(ctx, PromptRequest{Command: cmd, Workdir: ex.Workdir, Env: ex.Env, Justification: just, Rule: dec.Rule})
		if !ok {
			return answer(dec, escalate.Deny, ans.Reason)
		}
		if ans.Answer == AlwaysAllow {
			// A prompt rule outranks any allow rule, so "always" cannot be
			// written as a rule: it holds for this server's lifetime.
			d.approvals.add(cmd)
		}
		why := "user approved: " + ans.Answer.String()
		if repo.untrusted() && !d.repos.ask {
			return d.runSandboxed(dec, ex, why, repo)
		}
		return d.escalate(dec, why+repo.recordNote(), repo)

	case v.Decision == policy.Prompt:
		return d.dangerous(ctx, dec, ex, args)
	}
	return answer(dec, escalate.Run, "")
}

// record is the session's OnDecision: the answer it sent, which is
// Decide's unless the session overrode or never asked for it, becomes the
// call's record of the exec, with what ran for an escalation.
func (d *decider) record(r escalate.Record) {
	rec := newRecord(r.Exec, r.Decision)
	if r.Decision.Action == escalate.Escalate {
		// What ran: the resolved file, argv[0] the name the rule matched.
		rec.Executable, rec.Argv = r.Program, r.Argv
	}
	if r.Decision.Action == escalate.Run && d.asked != nil {
		d.asked.add(r.Exec)
	}
	d.call.Decisions.Record(rec)
}

// evaluate asks the policy about one exec. Program trust judges the file
// the session would run (ex.Program). A failed reload is logged: the
// previous rules still decide.
func (d *decider) evaluate(ctx context.Context, ex escalate.Exec, args []string) policy.Verdict {
	v, err := d.store.Evaluate(ctx, policy.Exec{Program: ex.File, Args: args, WritableRoots: d.roots,
		PreserveProgramPaths: d.preserve, Resolve: ex.Program})
	if err != nil && d.warned.first("reload:"+err.Error()) {
		d.log.Warn("rules reload failed; deciding with the previous rules", "error", err)
	}
	return v
}

// alwaysAllow writes the allow rule the user asked for with "always allow"
// on a command no rule covered (tokens: a prefix of it, see
// dangerousPrefix), then decides the exec by the new rule.
func (d *decider) alwaysAllow(ctx context.Context, dec escalate.Decision, ex escalate.Exec, args, tokens []string) escalate.Decision {
	if err := d.amend(tokens); err != nil {
		d.log.Error("always allow: could not add the rule", "error", err)
		return answer(dec, escalate.Run, "user approved (always allow), but the rule could not be saved: "+err.Error())
	}
	v := d.evaluate(ctx, ex, args)
	dec.Rule = ruleName(v.Rule)
	dec.Argv0 = argv0(ex, v)
	if v.Decision == policy.Allow {
		// The user has just answered for what makes it dangerous.
		return d.escalateChecked(ctx, dec, ex, v.ResolvedProgram, "user approved: always allow (rule added)", nil)
	}
	return answer(dec, escalate.Run, "user approved: always allow (rule added; "+v.Basename.Reason+")")
}

// escalate answers Escalate: the session runs the exec's resolved program
// (escalate.Exec.Program), or denies the exec if there is none, with
// argv[0] dec.Argv0 (see argv0) and, for a repository program, given the
// repository its trust check pinned.
func (d *decider) escalate(dec escalate.Decision, why string, repo repoVerdict) escalate.Decision {
	dec.Env = repo.pinEnv()
	return answer(dec, escalate.Escalate, why)
}

// argv0 is the argv[0] ex gets if the rule of v escalates it: the name that
// rule matched. That is the absolute path for a rule naming it (the only
// kind --preserve-program-paths applies); for a rule naming the program by
// name, "" lets the session use the base name of the path asked for.
func argv0(ex escalate.Exec, v policy.Verdict) string {
	if v.Rule != nil && filepath.IsAbs(v.Rule.Program) {
		return ex.File
	}
	return ""
}

// ruleName locates a rule as file:line:col, or just the file for a rule
// added by "always allow" (which has no position until the file is reloaded).
func ruleName(r *policy.PrefixRule) string {
	switch {
	case r == nil:
		return ""
	case r.Pos.Line == 0:
		return r.Pos.File
	}
	return r.Pos.String()
}

// answer is dec with action a for reason.
func answer(dec escalate.Decision, a escalate.Action, reason string) escalate.Decision {
	dec.Action, dec.Reason = a, reason
	return dec
}

// approvals are the commands a user answered "always allow" for on a
// prompt rule, for the engine's lifetime. Keys are the resolved program and
// its arguments, exactly.
type approvals struct {
	mu  sync.Mutex
	set map[string]bool
}

func (a *approvals) has(cmd []string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.set[strings.Join(cmd, "\x00")]
}

func (a *approvals) add(cmd []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.set == nil {
		a.set = map[string]bool{}
	}
	a.set[strings.Join(cmd, "\x00")] = true
}

// onceSet tells the first sighting of a string from the later ones.
type onceSet struct {
	// max, when set, bounds the strings remembered: reaching it forgets
	// them all, so a sighting may count as first again.
	max int

	mu   sync.Mutex
	seen map[string]bool
}

func (o *onceSet) first(s string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen[s] {
		return false
	}
	if o.seen == nil || o.max > 0 && len(o.seen) >= o.max {
		o.seen = map[string]bool{}
	}
	o.seen[s] = true
	return true
}
