package policy

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// go.starlark.net and starlark-rust word argument errors differently. The
// builtins' argument errors are reworded to the texts Codex prints for them
// (`Found `x` extra named parameter(s)`, `Missing parameter`, `Type of
// parameter`), which tools and tests written against Codex look for. The
// patterns compile on first use: package init runs in every role of the
// binary.
var (
	argUnexpectedKeyword = lazyRegexp(`^(\w+): unexpected keyword argument "([^"]*)"`)
	argMissing           = lazyRegexp(`^(\w+): missing argument for (\w+)$`)
	argWrongType         = lazyRegexp(`^(\w+): for parameter "?(\w+)"?: got (\w+), want (\w+)$`)
)

func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// rustTypeNames maps go.starlark.net's wanted types to starlark-rust's.
var rustTypeNames = map[string]string{"string": "str", "list": "list", "bool": "bool", "int": "int"}

func codexArgError(err error) error {
	msg := err.Error()
	if m := argUnexpectedKeyword().FindStringSubmatch(msg); m != nil {
		return &ruleError{msg: fmt.Sprintf("Found `%s` extra named parameter(s) for call to %s", m[2], m[1])}
	}
	if m := argMissing().FindStringSubmatch(msg); m != nil {
		return &ruleError{msg: fmt.Sprintf("Missing parameter `%s` for call to %s", m[2], m[1])}
	}
	if m := argWrongType().FindStringSubmatch(msg); m != nil {
		want := m[4]
		if r, ok := rustTypeNames[want]; ok {
			want = r
		}
		return &ruleError{msg: fmt.Sprintf("Type of parameter `%s` doesn't match, expected `%s`, actual `%s`", m[2], want, m[3])}
	}
	if strings.Contains(msg, "got multiple values for keyword argument") {
		return &ruleError{msg: msg}
	}
	return err
}
