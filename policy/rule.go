package policy

import (
	"fmt"
	"strings"
)

// Token is one position of a pattern: a single string, or alternatives any of
// which matches.
type Token []string

func (t Token) matches(s string) bool {
	for _, alt := range t {
		if alt == s {
			return true
		}
	}
	return false
}

// Pos locates a rule's prefix_rule call in its file.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string {
	if p.File == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// PrefixRule matches commands whose first token equals Program and whose
// following tokens match Rest, position by position. Extra trailing arguments
// are ignored; tokens are never skipped.
type PrefixRule struct {
	Program       string
	Rest          []Token
	Decision      Decision
	Justification string // "" when the rule has none
	Pos           Pos    // where the rule was defined; zero for amended rules
	// Requirement marks a rule from the admin requirements.toml. Such rules
	// stay after every other rule of their program (see Policy.WithRule).
	Requirement bool
}

// Match reports whether cmd starts with the rule's pattern, and returns the
// command tokens that matched (the program and len(Rest) arguments).
func (r *PrefixRule) Match(cmd []string) ([]string, bool) {
	if len(cmd) < len(r.Rest)+1 || cmd[0] != r.Program {
		return nil, false
	}
	for i, tok := range r.Rest {
		if !tok.matches(cmd[i+1]) {
			return nil, false
		}
	}
	return cmd[:len(r.Rest)+1], true
}

// debugString renders the rule as Codex 0.97.0's Rust Debug output, which
// appears byte for byte in example validation errors.
func (r *PrefixRule) debugString() string {
	var b strings.Builder
	b.WriteString("PrefixRule { pattern: PrefixPattern { first: ")
	b.WriteString(rustDebugString(r.Program))
	b.WriteString(", rest: [")
	for i, tok := range r.Rest {
		if i > 0 {
			b.WriteString(", ")
		}
		if len(tok) == 1 {
			b.WriteString("Single(" + rustDebugString(tok[0]) + ")")
			continue
		}
		b.WriteString("Alts(" + rustDebugList(tok) + ")")
	}
	b.WriteString("] }, decision: ")
	b.WriteString(r.Decision.debugName())
	b.WriteString(", justification: ")
	if r.Justification == "" {
		b.WriteString("None")
	} else {
		b.WriteString("Some(" + rustDebugString(r.Justification) + ")")
	}
	b.WriteString(" }")
	return b.String()
}
