package policy

// RuleMatch is one entry of an evaluation: either a prefix rule that matched
// (Rule != nil) or the heuristics fallback for a command no rule matched.
type RuleMatch struct {
	// Rule is the prefix rule that matched, or nil for a heuristics match.
	Rule *PrefixRule
	// MatchedPrefix holds the command tokens the rule matched (prefix rules).
	MatchedPrefix []string
	// Command is the whole command (heuristics matches).
	Command []string
	// Decision is the rule's decision, or the fallback's.
	Decision Decision
	// ResolvedProgram is the absolute program path when a basename rule
	// matched an absolute executable ("" otherwise).
	ResolvedProgram string
}

// IsHeuristic reports whether the match came from the heuristics fallback.
func (m RuleMatch) IsHeuristic() bool { return m.Rule == nil }

// Justification is the matched rule's justification ("" when none).
func (m RuleMatch) Justification() string {
	if m.Rule == nil {
		return ""
	}
	return m.Rule.Justification
}

// Evaluation is the result of checking one or more commands: every match in
// order, and the strictest decision among them.
type Evaluation struct {
	Decision     Decision
	MatchedRules []RuleMatch
}

// IsMatch reports whether at least one prefix rule (not a heuristic) matched.
func (e Evaluation) IsMatch() bool {
	for _, m := range e.MatchedRules {
		if !m.IsHeuristic() {
			return true
		}
	}
	return false
}

func evaluationOf(matches []RuleMatch) Evaluation {
	ev := Evaluation{MatchedRules: matches}
	for _, m := range matches {
		ev.Decision = ev.Decision.Stricter(m.Decision)
	}
	return ev
}
