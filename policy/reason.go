package policy

import "strings"

// RenderCommand joins argv into one shell-quoted line, as Codex renders
// commands in reasons (a plain space join if a word cannot be quoted).
func RenderCommand(argv []string) string {
	line, err := quoteWords(argv)
	if err != nil {
		return strings.Join(argv, " ")
	}
	return line
}

// Reason is the text Codex 0.97.0 gives for a forbidden or prompting
// verdict on argv, e.g. "`rm -rf x` rejected: use trash",
// "`git push` requires approval by policy". It is "" for Allow, None, and
// a prompt that came only from the dangerous heuristic.
func (v Verdict) Reason(argv []string) string {
	cmd := "`" + RenderCommand(argv) + "`"
	switch v.Decision {
	case Forbidden:
		if v.Rule == nil {
			return cmd + " rejected: blocked by policy"
		}
		if v.Rule.Justification != "" {
			return cmd + " rejected: " + v.Rule.Justification
		}
		return cmd + " rejected: policy forbids commands starting with `" + RenderCommand(v.matchedPrefix()) + "`"
	case Prompt:
		if v.Rule == nil {
			return ""
		}
		if v.Rule.Justification != "" {
			return cmd + " requires approval: " + v.Rule.Justification
		}
		return cmd + " requires approval by policy"
	}
	return ""
}

func (v Verdict) matchedPrefix() []string {
	for _, m := range v.Matches {
		if m.Rule == v.Rule {
			return m.MatchedPrefix
		}
	}
	return nil
}
