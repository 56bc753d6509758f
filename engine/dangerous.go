package engine

import (
	"context"
	"path/filepath"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/policy"
)

// A dangerous command (policy.IsDangerous: rm -f, git reset --hard, a
// forced push) that runs inside the sandbox can harm only what the sandbox
// lets any command write, so asking about it adds nothing but questions: a
// ./configure runs `rm -f conftest*` a thousand times. The question is
// asked where the command would run unconfined: in a call without a
// sandbox (danger-full-access), or escalated by an allow rule that does not
// name what makes it dangerous. "Always allow" then adds a rule for the
// command's prefix (the program and its options, see
// policy.DangerousPrefix), which holds for the next file too.

// dangerPolicy is how a call treats dangerous commands.
type dangerPolicy struct {
	// confined: the call is sandboxed; a command it runs in place is
	// confined.
	confined bool
	// askConfined is [execgate] dangerous_commands = "ask", Codex 0.97's
	// behaviour: ask before every dangerous command no rule covers, even
	// one that would run confined, and let an allow rule escalate one
	// without asking.
	askConfined bool
}

// dangerous decides a dangerous command no rule covers: inside the sandbox
// it runs there without a question (unless askConfined); elsewhere the
// user is asked first.
func (d *decider) dangerous(ctx context.Context, dec escalate.Decision, ex escalate.Exec, args []string) escalate.Decision {
	prefix := d.dangerousPrefix(ex, args)
	judged := "judged dangerous (`" + QuoteCommand(prefix) + "`) and no rule covers it"
	if d.dangers.confined && !d.dangers.askConfined {
		return answer(dec, escalate.Run, judged+": runs confined, inside the sandbox, without asking")
	}
	where := "there is no sandbox in this call, so it runs unconfined"
	if d.dangers.confined {
		where = "allowed once, it runs inside the sandbox"
	}
	cmd := append([]string{ex.File}, args...)
	ans, ok := d.call.Ask(ctx, PromptRequest{Command: cmd, Workdir: ex.Workdir, Env: ex.Env, AlwaysAllow: prefix,
		Justification: "No rule covers this command and it looks destructive; " + where + ". " + alwaysAllowEffect(prefix)})
	if !ok {
		return answer(dec, escalate.Deny, ans.Reason)
	}
	if ans.Answer == AlwaysAllow {
		return d.alwaysAllow(ctx, dec, ex, args, prefix)
	}
	return answer(dec, escalate.Run, judged+"; user approved: "+ans.Answer.String())
}

// uncoveredDanger returns, for an exec an allow rule escalates, the prefix
// "always allow" would add when it looks dangerous and no rule that matched
// names all that makes it so (a rule allowing `git push`, a `git push
// --force`): escalated, it runs unconfined, and the user is asked first.
// Nil when there is nothing to ask: it is not dangerous, a rule names it,
// or dangerous_commands = "ask" lets the allow rule decide alone.
func (d *decider) uncoveredDanger(ex escalate.Exec, args []string, v policy.Verdict) []string {
	if d.dangers.askConfined {
		return nil
	}
	prefix := d.dangerousPrefix(ex, args)
	if prefix == nil {
		return nil
	}
	for _, m := range v.Matches {
		if m.Decision == policy.Allow && len(m.MatchedPrefix) >= len(prefix) {
			return nil
		}
	}
	return prefix
}

// dangerousPrefix is what "always allow" adds a rule for when ex is
// dangerous (nil otherwise): policy.DangerousPrefix, the program named as
// rules name it.
func (d *decider) dangerousPrefix(ex escalate.Exec, args []string) []string {
	prefix := policy.DangerousPrefix(append([]string{filepath.Base(ex.File)}, args...))
	if prefix != nil && d.preserve {
		prefix[0] = ex.File // only rules naming the full path apply
	}
	return prefix
}

// uncoveredWarning explains, at a prompt, why an allowed command asks.
func uncoveredWarning(prefix []string) string {
	return "It looks destructive (`" + QuoteCommand(prefix) + "`) and the allow rule that matched does not name that; allowed, it runs outside the sandbox. " +
		alwaysAllowEffect(prefix)
}

// alwaysAllowEffect says what answering "always allow" does.
func alwaysAllowEffect(prefix []string) string {
	return "Always allow adds an allow rule for commands starting `" + QuoteCommand(prefix) + "`: they then run outside the sandbox without asking."
}
