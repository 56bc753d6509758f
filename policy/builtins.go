package policy

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"go.starlark.net/starlark"
)

// ruleError is an error raised by prefix_rule or host_executable. Its text is
// exactly Codex's (invalid decision: ..., invalid example: ...).
type ruleError struct{ msg string }

func (e *ruleError) Error() string { return e.msg }

func ruleErrorf(format string, args ...any) error {
	return &ruleError{msg: fmt.Sprintf(format, args...)}
}

// fileState collects what one file's builtin calls define.
type fileState struct {
	path   string
	home   string
	rules  []*PrefixRule
	hosts  []hostDef
	budget *ruleBudget // shared by the whole load
}

// ruleBudget is how many more rules a load accepts (Limits.MaxRules).
type ruleBudget struct{ left, limit int }

func (b *ruleBudget) take(n int) error {
	if b.left < n {
		return fmt.Errorf("too many rules (limit %d, all files together)", b.limit)
	}
	b.left -= n
	return nil
}

type hostDef struct {
	name  string
	paths []string
}

// fileKey is the thread-local under which a file's evaluation keeps its
// fileState, so that one set of builtins serves every file of a load.
const fileKey = "execgate.policy.file"

// builtins are the functions a rules file adds rules with.
func builtins() starlark.StringDict {
	call := func(name string, fn func(fs *fileState, th *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) error) *starlark.Builtin {
		return starlark.NewBuiltin(name, func(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			fs, _ := th.Local(fileKey).(*fileState)
			if fs == nil {
				return nil, fmt.Errorf("internal error: %s called outside a rules file", name)
			}
			if err := fn(fs, th, args, kwargs); err != nil {
				return nil, err
			}
			return starlark.None, nil
		})
	}
	return starlark.StringDict{
		"prefix_rule":     call("prefix_rule", (*fileState).prefixRule),
		"host_executable": call("host_executable", (*fileState).hostExecutable),
	}
}

// prefixRule validates in Codex 0.97.0's order: decision, justification,
// pattern, match then not_match examples, head expansion, not_match checks,
// match checks.
func (fs *fileState) prefixRule(th *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) error {
	var (
		pattern               *starlark.List
		decisionRaw           = "allow"
		match, notMatch       *starlark.List
		justification         string
		justificationProvided bool
	)
	for _, kv := range kwargs {
		if k, _ := starlark.AsString(kv[0]); k == "justification" {
			justificationProvided = true
		}
	}
	if len(args) >= 5 {
		justificationProvided = true
	}
	if err := starlark.UnpackArgs("prefix_rule", args, kwargs,
		"pattern", &pattern, "decision?", &decisionRaw, "match?", &match,
		"not_match?", &notMatch, "justification?", &justification); err != nil {
		return codexArgError(err)
	}
	decision, err := ParseDecision(decisionRaw)
	if err != nil {
		return &ruleError{msg: err.Error()}
	}
	if justificationProvided && strings.TrimSpace(justification) == "" {
		return ruleErrorf("invalid rule: justification cannot be empty")
	}
	tokens, err := parsePattern(pattern)
	if err != nil {
		return err
	}
	positive, err := parseExamples(match)
	if err != nil {
		return err
	}
	negative, err := parseExamples(notMatch)
	if err != nil {
		return err
	}
	if err := checkRuleSize(tokens, justification); err != nil {
		return err
	}
	pos := callerPos(th)
	created := make([]*PrefixRule, 0, len(tokens[0]))
	for _, head := range tokens[0] {
		created = append(created, &PrefixRule{
			Program: head, Rest: tokens[1:], Decision: decision,
			Justification: justification, Pos: pos,
		})
	}
	if err := validateExamples(created, positive, negative); err != nil {
		return err
	}
	if err := fs.budget.take(len(created)); err != nil {
		return err
	}
	fs.rules = append(fs.rules, created...)
	return nil
}

// maxRuleBytes bounds one rule's tokens and justification, so that error
// messages and stored rules stay small whatever the file builds.
const maxRuleBytes = 1 << 20

func checkRuleSize(tokens []Token, justification string) error {
	n := len(justification)
	for _, t := range tokens {
		for _, alt := range t {
			n += len(alt) + 8
		}
	}
	if n > maxRuleBytes {
		return ruleErrorf("invalid rule: rule too large (more than %d bytes)", maxRuleBytes)
	}
	return nil
}

func parsePattern(list *starlark.List) ([]Token, error) {
	tokens := make([]Token, 0, list.Len())
	for i := 0; i < list.Len(); i++ {
		switch v := list.Index(i).(type) {
		case starlark.String:
			tokens = append(tokens, Token{string(v)})
		case *starlark.List:
			if v.Len() == 0 {
				return nil, ruleErrorf("invalid pattern element: pattern alternatives cannot be empty")
			}
			alts := make(Token, 0, v.Len())
			for j := 0; j < v.Len(); j++ {
				s, ok := v.Index(j).(starlark.String)
				if !ok {
					return nil, ruleErrorf("invalid pattern element: pattern alternative must be a string (got %s)", v.Index(j).Type())
				}
				alts = append(alts, string(s))
			}
			tokens = append(tokens, alts)
		default:
			return nil, ruleErrorf("invalid pattern element: pattern element must be a string or list of strings (got %s)", v.Type())
		}
	}
	if len(tokens) == 0 {
		return nil, ruleErrorf("invalid pattern element: pattern cannot be empty")
	}
	return tokens, nil
}

func parseExamples(list *starlark.List) ([][]string, error) {
	if list == nil {
		return nil, nil
	}
	out := make([][]string, 0, list.Len())
	for i := 0; i < list.Len(); i++ {
		switch v := list.Index(i).(type) {
		case starlark.String:
			words, err := splitExample(string(v))
			if err != nil {
				return nil, ruleErrorf("invalid example: example string has invalid shell syntax")
			}
			if len(words) == 0 {
				return nil, ruleErrorf("invalid example: example cannot be an empty string")
			}
			out = append(out, words)
		case *starlark.List:
			words := make([]string, 0, v.Len())
			for j := 0; j < v.Len(); j++ {
				s, ok := v.Index(j).(starlark.String)
				if !ok {
					return nil, ruleErrorf("invalid example: example tokens must be strings (got %s)", v.Index(j).Type())
				}
				words = append(words, string(s))
			}
			if len(words) == 0 {
				return nil, ruleErrorf("invalid example: example cannot be an empty list")
			}
			out = append(out, words)
		default:
			return nil, ruleErrorf("invalid example: example must be a string or list of strings (got %s)", v.Type())
		}
	}
	return out, nil
}

// validateExamples checks examples against the rules one call created, as
// Codex 0.97.0 does: not_match first, then match.
func validateExamples(rules []*PrefixRule, positive, negative [][]string) error {
	for _, ex := range negative {
		for _, r := range rules {
			if _, ok := r.Match(ex); ok {
				return ruleErrorf("expected example to not match rule `%s`: %s", r.debugString(), joinExample(ex))
			}
		}
	}
	var unmatched []string
	for _, ex := range positive {
		matched := slices.ContainsFunc(rules, func(r *PrefixRule) bool {
			_, ok := r.Match(ex)
			return ok
		})
		if !matched {
			unmatched = append(unmatched, joinExample(ex))
		}
	}
	if len(unmatched) == 0 {
		return nil
	}
	debug := make([]string, len(rules))
	for i, r := range rules {
		debug[i] = r.debugString()
	}
	return ruleErrorf("expected every example to match at least one rule. rules: %s; unmatched examples: %s",
		rustDebugList(debug), rustDebugList(unmatched))
}

// hostExecutable records host_executable(name, paths): the absolute paths
// that may stand for the bare program name in basename rules.
func (fs *fileState) hostExecutable(_ *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) error {
	var name string
	var paths *starlark.List
	if err := starlark.UnpackArgs("host_executable", args, kwargs, "name", &name, "paths", &paths); err != nil {
		return codexArgError(err)
	}
	if name == "" {
		return ruleErrorf("host_executable name cannot be empty")
	}
	if strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return ruleErrorf("host_executable name must be a bare executable name (got %s)", name)
	}
	var out []string
	for i := 0; i < paths.Len(); i++ {
		s, ok := paths.Index(i).(starlark.String)
		if !ok {
			return ruleErrorf("host_executable paths must be strings (got %s)", paths.Index(i).Type())
		}
		raw := string(s)
		p := raw
		if strings.HasPrefix(p, "~/") {
			if fs.home == "" {
				return ruleErrorf("host_executable path `%s` uses ~/ but the home directory is unknown", raw)
			}
			p = filepath.Join(fs.home, p[2:])
		}
		if !filepath.IsAbs(p) {
			return ruleErrorf("host_executable paths must be absolute (got %s)", raw)
		}
		p = filepath.Clean(p)
		if filepath.Base(p) != name {
			return ruleErrorf("host_executable path `%s` must have basename `%s`", raw, name)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	fs.hosts = append(fs.hosts, hostDef{name: name, paths: out})
	return nil
}

// callerPos is the position of the innermost Starlark (non-builtin) frame.
func callerPos(th *starlark.Thread) Pos {
	for i := 0; i < th.CallStackDepth(); i++ {
		fr := th.CallFrame(i)
		if fr.Pos.IsValid() && fr.Pos.Filename() != "<builtin>" {
			return Pos{File: fr.Pos.Filename(), Line: int(fr.Pos.Line), Col: int(fr.Pos.Col)}
		}
	}
	return Pos{}
}
