package policy

import "fmt"

// Decision is what a rule says about a command. The zero value, None, means
// that no rule decided: the caller falls back to heuristics or its default.
type Decision uint8

// Decisions in increasing strictness: a stricter decision always wins.
const (
	None Decision = iota
	Allow
	Prompt
	Forbidden
)

// ParseDecision parses the exact, case-sensitive names used in .rules files.
func ParseDecision(s string) (Decision, error) {
	switch s {
	case "allow":
		return Allow, nil
	case "prompt":
		return Prompt, nil
	case "forbidden":
		return Forbidden, nil
	}
	return None, fmt.Errorf("invalid decision: %s", s)
}

// String returns the name used in .rules files and JSON ("" for None).
func (d Decision) String() string {
	switch d {
	case Allow:
		return "allow"
	case Prompt:
		return "prompt"
	case Forbidden:
		return "forbidden"
	}
	return ""
}

// debugName is the Rust Debug form Codex prints in example errors.
func (d Decision) debugName() string {
	switch d {
	case Allow:
		return "Allow"
	case Prompt:
		return "Prompt"
	case Forbidden:
		return "Forbidden"
	}
	return "None"
}

// MarshalJSON encodes the decision as its name; None encodes as null.
func (d Decision) MarshalJSON() ([]byte, error) {
	if d == None {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// Stricter returns the stricter of d and o.
func (d Decision) Stricter(o Decision) Decision {
	if o > d {
		return o
	}
	return d
}
