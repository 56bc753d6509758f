package policy

import (
	"fmt"
	"path/filepath"

	"github.com/execgate/execgate/internal/resolve"
)

// Exec is one program start to evaluate, as the execve wrapper reports it.
type Exec struct {
	// Program is the path of the executable, absolute (the server resolves
	// a relative file against the working directory first).
	Program string
	// Args are argv[1:].
	Args []string
	// WritableRoots are the paths the sandbox lets the command write. An
	// executable inside one of them is not trusted for basename rules.
	WritableRoots []string
	// PreserveProgramPaths turns basename matching off: only rules naming
	// the absolute path apply.
	PreserveProgramPaths bool
	// Resolve, if set, returns Program with every symbolic link followed,
	// or why it cannot be: the server passes the resolution of the file it
	// would run (escalate.Exec.Program), so that trust is decided on that
	// very file. Nil resolves Program here, the same way (internal/resolve).
	Resolve func() (string, error)
}

// resolved returns e.Program with every symbolic link followed.
func (e Exec) resolved() (string, error) {
	if e.Resolve != nil {
		return e.Resolve()
	}
	f, err := resolve.Open(e.Program, nil)
	if err != nil {
		return "", err
	}
	f.Close()
	return f.Path, nil
}

// Source says where a verdict's decision came from.
type Source uint8

const (
	// FromHeuristics: no rule matched; Decision is Prompt for a dangerous
	// command and None otherwise.
	FromHeuristics Source = iota
	// FromRule: at least one prefix rule matched.
	FromRule
)

// Verdict is the policy's answer for one Exec.
type Verdict struct {
	Decision Decision
	Source   Source
	// Matches lists every rule that matched and was applied, absolute-path
	// rules first, then basename rules, each in load order.
	Matches []RuleMatch
	// Rule is the rule that decided: among the matches with the verdict's
	// decision, the one with the longest matched prefix (the last on ties,
	// as Codex picks the rule it quotes). Nil when no rule matched.
	Rule *PrefixRule
	// ResolvedProgram is Program with symlinks resolved when basename rules
	// were considered (Program itself otherwise, or if it cannot be
	// resolved): the file whose location program trust judged.
	ResolvedProgram string
	// Basename explains whether rules for the program's basename applied.
	Basename BasenameTrust
}

// BasenameTrust records the program-trust decision for basename rules.
type BasenameTrust struct {
	// Name is the basename whose rules were considered ("" if none were).
	Name string
	// Applied is true when basename rules were applied in full.
	Applied bool
	// Reason says why they were or were not applied, for logs and prompts.
	Reason string
}

// Justification is the deciding rule's justification, "" if none.
func (v Verdict) Justification() string {
	if v.Rule == nil {
		return ""
	}
	return v.Rule.Justification
}

// Evaluate decides one exec. Rules naming the absolute path
// always apply. Rules naming the basename apply in full only when the
// executable is trusted: listed by a host_executable for that name, or, when
// there is none, resolving (symlinks followed) to a file outside every
// writable root. For an untrusted executable only forbidden basename rules
// apply: they can only make the answer stricter, while an allow or prompt
// rule would let a program the agent may have written run outside the
// sandbox. Without a rule match the dangerous heuristic decides (Prompt), and
// otherwise the decision is None: run sandboxed.
func (p *Policy) Evaluate(e Exec) Verdict {
	v := Verdict{ResolvedProgram: e.Program}
	cmd := append([]string{e.Program}, e.Args...)
	v.Matches = p.Matches(cmd)
	if !filepath.IsAbs(e.Program) {
		// A relative program is relative to a directory the agent may
		// control: a rule for "git" must not allow "./git" spelled "git".
		v.Matches = onlyForbidden(v.Matches)
	}

	base := filepath.Base(e.Program)
	baseCmd := append([]string{base}, e.Args...)
	switch {
	case !filepath.IsAbs(e.Program):
		v.Basename.Reason = fmt.Sprintf("%s is not an absolute path; only forbidden rules apply", e.Program)
	case e.PreserveProgramPaths:
		v.Basename.Reason = "preserve_program_paths is set; only rules naming the absolute path apply"
	case len(p.rules[base]) == 0:
		v.Basename.Reason = fmt.Sprintf("no rules for %s", base)
	default:
		v.Basename.Name = base
		// Resolved only here: it costs a few syscalls, and only basename
		// rules depend on where the file really is.
		resolved, resolveErr := e.resolved()
		if resolveErr == nil {
			v.ResolvedProgram = resolved
		}
		trusted, why := p.trust(e, v.ResolvedProgram, resolveErr, base)
		v.Basename.Applied = trusted
		v.Basename.Reason = why
		for _, m := range p.Matches(baseCmd) {
			if trusted || m.Decision == Forbidden {
				m.ResolvedProgram = e.Program
				v.Matches = append(v.Matches, m)
			}
		}
	}

	if len(v.Matches) == 0 {
		v.Source = FromHeuristics
		if IsDangerous(baseCmd) {
			v.Decision = Prompt
		}
		return v
	}
	v.Source = FromRule
	for _, m := range v.Matches {
		v.Decision = v.Decision.Stricter(m.Decision)
	}
	for _, m := range v.Matches {
		if m.Decision == v.Decision && (v.Rule == nil || len(m.Rule.Rest) >= len(v.Rule.Rest)) {
			v.Rule = m.Rule
		}
	}
	return v
}

func onlyForbidden(matches []RuleMatch) []RuleMatch {
	var out []RuleMatch
	for _, m := range matches {
		if m.Decision == Forbidden {
			out = append(out, m)
		}
	}
	return out
}

// String names the source for logs: "rule" or "heuristics".
func (s Source) String() string {
	if s == FromRule {
		return "rule"
	}
	return "heuristics"
}
