package engine

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/policy"
	"github.com/execgate/execgate/repotrust"
)

// repoTrust is a call's access to repository trust: whether a program that
// runs code from its repository (git's hooks and config; see
// repotrust.Programs) may be escalated there.
type repoTrust struct {
	reg *repotrust.Registry // nil: nothing is checked
	// confined: the call is sandboxed. In danger-full-access the agent
	// runs anything unconfined anyway: an escalation escapes nothing.
	confined bool
	// ask: [execgate] untrusted_repository = "ask"; otherwise a program
	// in an untrusted repository runs sandboxed.
	ask bool
	// env is the environment an escalated command gets, given what the
	// shell adds (escalate.Exec.Env): what the program reads (HOME, GIT_*).
	env func(fromShell []string) []string
}

// repoVerdict is the trust check's answer for one exec.
type repoVerdict struct{ repotrust.Verdict }

// check asks about ex; resolved is its program with symlinks resolved,
// if known ("").
func (t repoTrust) check(ex escalate.Exec, resolved string) repoVerdict {
	if t.reg == nil || !t.confined {
		return repoVerdict{}
	}
	var env []string
	if t.env != nil {
		env = t.env(ex.Env)
	}
	return repoVerdict{t.reg.Check(repotrust.Exec{File: ex.File, Resolved: resolved, Argv: ex.Argv, Workdir: ex.Workdir, Env: env})}
}

// untrusted: the program runs repository code, from a repository the
// sandbox could have written.
func (v repoVerdict) untrusted() bool { return v.Listed && !v.Trusted }

// pinEnv is what an escalation must set in the program's environment:
// the repository the check pinned, if any.
func (v repoVerdict) pinEnv() []string {
	if v.Pin == nil || !v.Trusted {
		return nil
	}
	return v.Pin.Env()
}

// recordNote is what the decision record adds about the repository.
func (v repoVerdict) recordNote() string {
	if v.Listed && v.Trusted {
		return "; " + v.Reason
	}
	return ""
}

// promptWarning explains an untrusted repository at a prompt: allowed, the
// program runs outside the sandbox (ask) or inside it.
func (v repoVerdict) promptWarning(ask bool) string {
	s := "This program runs code from its repository (hooks, configuration), and " + v.Reason + "."
	if ask {
		return s + " Allowed, it runs outside the sandbox with whatever code the agent may have put there."
	}
	return s + " Allowed, it runs inside the sandbox."
}

// escalateChecked escalates ex, unless its program runs repository code
// from a repository the sandbox could have written: then it runs inside
// the sandbox, saying why on its stderr, or with untrusted_repository =
// "ask" the user decides. danger, if set, is what makes ex dangerous that
// the rule allowing it does not name (see uncoveredDanger): the user is
// asked before it runs outside the sandbox.
func (d *decider) escalateChecked(ctx context.Context, dec escalate.Decision, ex escalate.Exec, resolved, why string, danger []string) escalate.Decision {
	repo := d.repos.check(ex, resolved)
	untrusted := repo.untrusted()
	switch {
	case untrusted && !d.repos.ask:
		// Confined: a dangerous command there harms no more than any other.
		return d.runSandboxed(dec, ex, why, repo)
	case !untrusted && danger == nil:
		return d.escalate(dec, why+repo.recordNote(), repo)
	}
	cmd := []string{ex.File}
	if len(ex.Argv) > 1 {
		cmd = append(cmd, ex.Argv[1:]...)
	}
	// "Always" holds for this command in this repository only.
	key := append(cmd[:len(cmd):len(cmd)], "\x00repository:"+repo.Repo)
	although := ""
	if untrusted {
		although = "; outside the sandbox although " + repo.Reason
		if d.approvals.has(key) {
			return d.escalate(dec, why+although+": approved earlier (always allow)", repo)
		}
	}
	req := PromptRequest{Command: cmd, Workdir: ex.Workdir, Env: ex.Env, Rule: dec.Rule}
	if untrusted {
		req.Justification = repo.promptWarning(true)
	}
	if danger != nil {
		req.Justification = joinSentences(req.Justification, uncoveredWarning(danger))
		req.AlwaysAllow = danger
	}
	ans, ok := d.call.Ask(ctx, req)
	if !ok {
		if untrusted {
			ans.Reason += " (" + repo.Reason + ")"
		}
		return answer(dec, escalate.Deny, ans.Reason)
	}
	approved := ": user approved: " + ans.Answer.String()
	if ans.Answer == AlwaysAllow {
		if untrusted {
			d.approvals.add(key)
		}
		if danger != nil {
			if err := d.amend(danger); err != nil {
				d.log.Error("always allow: could not add the rule", "error", err)
				approved += " (the rule could not be saved: " + err.Error() + ")"
			} else {
				approved += " (rule added)"
			}
		}
	}
	return d.escalate(dec, why+although+approved+repo.recordNote(), repo)
}

// runSandboxed answers Run for an exec a rule would have escalated, with a
// note for the program's stderr saying why.
func (d *decider) runSandboxed(dec escalate.Decision, ex escalate.Exec, why string, repo repoVerdict) escalate.Decision {
	dec = answer(dec, escalate.Run, why+", but it runs inside the sandbox: "+repo.Reason)
	dec.Note = fmt.Sprintf("execgate: %s runs inside the sandbox, not outside it: %s", filepath.Base(ex.File), repo.Reason)
	return dec
}

// joinSentences joins two prompt texts, either possibly empty.
func joinSentences(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}

// repositoryPrograms is the table of programs that run repository code:
// git's, plus config.toml's [execgate.repository_programs].
func repositoryPrograms(cfg *policy.Config) (repotrust.Programs, error) {
	table := repotrust.DefaultPrograms()
	for _, name := range slices.Sorted(maps.Keys(cfg.Execgate.RepositoryPrograms)) {
		kind, err := repotrust.ParseKind(cfg.Execgate.RepositoryPrograms[name])
		if err == nil {
			table, err = table.With(name, kind)
		}
		if err != nil {
			return table, fmt.Errorf("config: execgate.repository_programs.%s: %w", name, err)
		}
	}
	return table, nil
}
