package policy

// RuleCounts counts prefix rules by decision.
type RuleCounts struct {
	Allow, Prompt, Forbidden int
}

// Total is the number of rules counted.
func (c RuleCounts) Total() int { return c.Allow + c.Prompt + c.Forbidden }

// RulesByFile counts the prefix rules each file contributes, by decision
// (alternatives of a rule's first token count separately, as in Len). Every
// file in Files is there, also one that holds no rules; so is the
// requirements file, if any.
func (p *Policy) RulesByFile() map[string]RuleCounts {
	out := make(map[string]RuleCounts, len(p.files)+1)
	for _, f := range p.files {
		out[f] = RuleCounts{}
	}
	if p.reqFile != "" {
		out[p.reqFile] = RuleCounts{}
	}
	for _, rules := range p.rules {
		for _, r := range rules {
			c := out[r.Pos.File]
			switch r.Decision {
			case Allow:
				c.Allow++
			case Prompt:
				c.Prompt++
			case Forbidden:
				c.Forbidden++
			}
			out[r.Pos.File] = c
		}
	}
	return out
}
