package policy

import (
	"path/filepath"
	"slices"
)

// Policy is an immutable set of loaded rules, indexed by program so that
// checking a command only looks at the rules for its first token. It is safe
// for concurrent use; derived policies (WithRule) share nothing mutable.
type Policy struct {
	rules map[string][]*PrefixRule
	// hosts maps a basename to the absolute paths host_executable named for
	// it. A present key with an empty list blocks basename matching.
	hosts map[string][]string
	count int
	files []string
	// reqFile is the requirements.toml the policy read ("" if none was
	// present); reqCount its rules; warnings what it ignored.
	reqFile  string
	reqCount int
	warnings []string
}

// Empty returns a policy without rules.
func Empty() *Policy {
	return &Policy{rules: map[string][]*PrefixRule{}, hosts: map[string][]string{}}
}

// Len is the number of prefix rules (head alternatives count separately).
func (p *Policy) Len() int { return p.count }

// Files lists the rules files the policy was loaded from, in load order.
func (p *Policy) Files() []string { return slices.Clone(p.files) }

// Requirements returns the admin requirements file the policy includes and
// how many rules it added; file is "" when none was present.
func (p *Policy) Requirements() (file string, rules int) { return p.reqFile, p.reqCount }

// Warnings lists what loading ignored without failing (keys of
// requirements.toml that execgate does not know or enforce).
func (p *Policy) Warnings() []string { return slices.Clone(p.warnings) }

// Rules returns the rules for program in load order.
func (p *Policy) Rules(program string) []*PrefixRule { return slices.Clone(p.rules[program]) }

// HasRules reports whether any rule names program (a basename or an
// absolute path): a cheap test that lets a caller skip evaluating a
// program no rule can match.
func (p *Policy) HasRules(program string) bool { return len(p.rules[program]) > 0 }

// HostExecutable returns the paths a host_executable names for a basename,
// and whether one was defined.
func (p *Policy) HostExecutable(name string) ([]string, bool) {
	paths, ok := p.hosts[name]
	return slices.Clone(paths), ok
}

// Matches returns every rule that matches cmd, in load order, duplicates
// kept. An empty command matches nothing.
func (p *Policy) Matches(cmd []string) []RuleMatch {
	if len(cmd) == 0 {
		return nil
	}
	var out []RuleMatch
	for _, r := range p.rules[cmd[0]] {
		if prefix, ok := r.Match(cmd); ok {
			out = append(out, RuleMatch{Rule: r, MatchedPrefix: prefix, Decision: r.Decision})
		}
	}
	return out
}

// Check evaluates cmd the way `codex execpolicy check` does: exact
// first-token matching and no heuristics, so the decision is None when
// nothing matches.
func (p *Policy) Check(cmd []string) Evaluation {
	return evaluationOf(p.Matches(cmd))
}

// CheckWithFallback evaluates cmd; when no rule matches, fallback decides and
// the result holds exactly one heuristics match.
func (p *Policy) CheckWithFallback(cmd []string, fallback func([]string) Decision) Evaluation {
	return p.CheckMultiple([][]string{cmd}, fallback)
}

// CheckMultiple evaluates several commands (e.g. the parts of a bash -lc
// script) and takes the strictest decision. Each unmatched command gets its
// own fallback entry when fallback is non-nil. Unlike Codex 0.97.0 an empty
// list does not panic: it yields an empty evaluation.
func (p *Policy) CheckMultiple(cmds [][]string, fallback func([]string) Decision) Evaluation {
	var all []RuleMatch
	for _, cmd := range cmds {
		m := p.Matches(cmd)
		if len(m) == 0 && fallback != nil {
			m = []RuleMatch{{Command: cmd, Decision: fallback(cmd)}}
		}
		all = append(all, m...)
	}
	return evaluationOf(all)
}

// WithRule returns a copy of p with r added to its program's list: at the
// end, but before the list's requirement rules unless r is one, so that the
// order is the one a reload of the amended file gives. The copy shares rule
// values (they are immutable) but not the index.
func (p *Policy) WithRule(r *PrefixRule) *Policy {
	q := *p
	q.rules = make(map[string][]*PrefixRule, len(p.rules)+1)
	q.count++
	for k, v := range p.rules {
		q.rules[k] = v
	}
	old := p.rules[r.Program]
	at := len(old)
	for !r.Requirement && at > 0 && old[at-1].Requirement {
		at--
	}
	// A new array: p's must not change.
	list := make([]*PrefixRule, 0, len(old)+1)
	list = append(list, old[:at]...)
	list = append(list, r)
	q.rules[r.Program] = append(list, old[at:]...)
	return &q
}

// CheckResolvingHostExecutables is Check with later Codex's
// --resolve-host-executables: when no rule matches an absolute cmd[0]
// exactly, rules for its basename apply, unless a host_executable for that
// basename exists and does not list cmd[0]. Matches then carry
// ResolvedProgram and the rule-side MatchedPrefix. Unlike Evaluate this
// checks no writable roots: it is the Codex CLI semantics.
func (p *Policy) CheckResolvingHostExecutables(cmd []string) Evaluation {
	ev := p.Check(cmd)
	if len(ev.MatchedRules) > 0 || len(cmd) == 0 || !filepath.IsAbs(cmd[0]) {
		return ev
	}
	base := filepath.Base(cmd[0])
	if paths, ok := p.hosts[base]; ok && !slices.Contains(paths, filepath.Clean(cmd[0])) {
		return ev
	}
	matches := p.Matches(append([]string{base}, cmd[1:]...))
	for i := range matches {
		matches[i].ResolvedProgram = cmd[0]
	}
	return evaluationOf(matches)
}
