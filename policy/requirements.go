package policy

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// Admin requirements: the [rules] table of requirements.toml holds prefix
// rules an administrator imposes. They may only prompt or forbid, and they
// are appended after every rules file's rules, so with strictest-wins no
// user, project or amended allow rule can relax them.
//
//	[rules]
//	prefix_rules = [
//	  { pattern = [{ token = "git" }, { any_of = ["push", "fetch"] }], decision = "prompt", justification = "..." },
//	]
//
// Decoding happens in two passes: the whole file is type-checked first (a
// wrong type anywhere is reported before any rule is validated, as a
// decode-then-validate reader does), then the rules are validated in order
// with Codex's messages.

// RequirementsFileName is the admin requirements file in the system
// configuration directory.
const RequirementsFileName = "requirements.toml"

// reqRule is one prefix_rules entry after type-checking.
type reqRule struct {
	pattern       []reqToken
	decision      Decision // None when the key is absent
	justification *string
}

// reqToken is one pattern element: {token = "x"} or {any_of = [...]}.
type reqToken struct {
	token *string
	anyOf []string // nil when absent; non-nil and empty for any_of = []
}

// readRequirements reads path; a missing file means no requirements (ok
// false). Any other failure is an error: the administrator asked for
// restrictions, so an unreadable file must not silently drop them.
func readRequirements(path string, limit int64) (data []byte, ok bool, err error) {
	data, err = readCapped(path, limit)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, &LoadError{File: path, Msg: "cannot read requirements: " + describeOSError(err), Err: err}
	}
	if int64(len(data)) > limit {
		return nil, false, &LoadError{File: path, Msg: fmt.Sprintf("requirements file is larger than %d bytes", limit)}
	}
	return data, true, nil
}

// parseRequirements decodes requirements.toml content into prefix rules,
// in file order with head alternatives expanded. path names the file in
// errors (a *LoadError) and warnings. Keys other than [rules] are Codex
// requirements execgate does not enforce: each is reported as a warning,
// as are unknown keys inside [rules].
func parseRequirements(path string, data []byte) (rules []*PrefixRule, warnings []string, err error) {
	raw, line, col, err := decodeTOML(data)
	if err != nil {
		return nil, nil, &LoadError{File: path, Line: line, Col: col, Msg: err.Error(), Err: err}
	}
	d := &reqDecoder{tomlDecoder{kind: "requirements", file: path}}
	for _, k := range sortedKeys(raw) {
		if k != "rules" {
			d.warnings = append(d.warnings, fmt.Sprintf("requirements %s: %s is not enforced by execgate (ignored)", path, k))
		}
	}
	v, present := raw["rules"]
	if !present {
		return nil, d.warnings, nil
	}
	entries, err := d.rulesTable(v)
	if err != nil {
		return nil, d.warnings, &LoadError{File: path, Msg: err.Error(), Err: err}
	}
	if len(entries) == 0 {
		return nil, d.warnings, &LoadError{File: path, Msg: "rules prefix_rules cannot be empty"}
	}
	pos := Pos{File: path}
	for i, e := range entries {
		tokens, err := e.validate(i)
		if err != nil {
			return nil, d.warnings, &LoadError{File: path, Msg: err.Error(), Err: err}
		}
		var justification string
		if e.justification != nil {
			justification = *e.justification
		}
		for _, head := range tokens[0] {
			rules = append(rules, &PrefixRule{
				Program: head, Rest: tokens[1:], Decision: e.decision,
				Justification: justification, Pos: pos, Requirement: true,
			})
		}
	}
	return rules, d.warnings, nil
}

// validate checks one entry (pattern, each token, justification, then
// decision: the order the reference lists Codex's messages in) and returns
// its pattern as tokens.
func (e reqRule) validate(index int) ([]Token, error) {
	if len(e.pattern) == 0 {
		return nil, fmt.Errorf("rules prefix_rule at index %d has an empty pattern", index)
	}
	tokens := make([]Token, len(e.pattern))
	for j, t := range e.pattern {
		tok, problem := t.toToken()
		if problem != "" {
			return nil, fmt.Errorf("rules prefix_rule at index %d has an invalid pattern token at index %d: %s", index, j, problem)
		}
		tokens[j] = tok
	}
	if e.justification != nil && strings.TrimSpace(*e.justification) == "" {
		return nil, fmt.Errorf("rules prefix_rule at index %d has an empty justification", index)
	}
	switch e.decision {
	case None:
		return nil, fmt.Errorf("rules prefix_rule at index %d is missing a decision", index)
	case Allow:
		return nil, fmt.Errorf("rules prefix_rule at index %d has decision 'allow', which is not permitted in requirements.toml: Codex merges these rules with other config and uses the most restrictive result (use 'prompt' or 'forbidden')", index)
	}
	return tokens, nil
}

// toToken converts a pattern element to a Token, or says what is wrong with
// it. Unlike .rules files, requirements reject empty strings: an admin
// rule for "" is a mistake, not a pattern.
func (t reqToken) toToken() (Token, string) {
	switch {
	case t.token != nil && t.anyOf != nil:
		return nil, "set either token or any_of, not both"
	case t.token != nil:
		if *t.token == "" {
			return nil, "token cannot be empty"
		}
		return Token{*t.token}, ""
	case t.anyOf != nil:
		if len(t.anyOf) == 0 {
			return nil, "any_of cannot be empty"
		}
		for _, a := range t.anyOf {
			if a == "" {
				return nil, "any_of cannot include empty tokens"
			}
		}
		return Token(t.anyOf), ""
	}
	return nil, "set either token or any_of"
}
