package policy

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// The go.starlark.net universal names a rules file may use, roughly
// starlark-rust's standard set that Codex exposes. universalPlain are O(1) or
// bounded by their (bounded) argument and used as they are; universalWrapped
// iterate, copy or stringify an argument and are wrapped with size checks.
var (
	universalPlain = map[string]bool{
		"None": true, "True": true, "False": true,
		"abs": true, "bool": true, "chr": true, "dir": true, "float": true,
		"hasattr": true, "len": true, "ord": true, "range": true, "type": true,
	}
	universalWrapped = map[string]bool{
		"all": true, "any": true, "dict": true, "enumerate": true, "fail": true,
		"getattr": true, "hash": true, "int": true, "list": true, "max": true,
		"min": true, "repr": true, "reversed": true, "sorted": true, "str": true,
		"tuple": true, "zip": true,
	}
)

// maxIntDigits caps int("...") parsing, whose cost grows faster than linearly.
const maxIntDigits = 4300

// guardedUniverse returns the predeclared names that shadow go.starlark.net's
// universe: wrapped builtins, and stubs for names rules files cannot use
// (print, set, bytes, ...), which fail as Codex does when called.
func guardedUniverse() starlark.StringDict {
	out := starlark.StringDict{}
	for name, v := range starlark.Universe {
		b, isBuiltin := v.(*starlark.Builtin)
		switch {
		case universalPlain[name]:
		case name == "getattr":
			out[name] = starlark.NewBuiltin(name, guardedGetattr)
		case universalWrapped[name] && isBuiltin:
			out[name] = wrapBuiltin(b)
		default:
			out[name] = unavailable(name)
		}
	}
	return out
}

func unavailable(name string) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		//lint:ignore ST1005 Codex's (starlark-rust's) message, word for word
		return nil, fmt.Errorf("Variable `%s` not found", name)
	})
}

// wrapBuiltin checks every argument before calling the universal builtin:
// walking it is bounded, copying it is charged, and for the stringifying
// builtins the result size is bounded.
func wrapBuiltin(b *starlark.Builtin) *starlark.Builtin {
	name := b.Name()
	return starlark.NewBuiltin(name, func(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		g := guardOf(th)
		vals := append([]starlark.Value(nil), args...)
		for _, kv := range kwargs {
			vals = append(vals, kv[1])
		}
		for _, v := range vals {
			if err := g.tree(v); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if err := g.charge(seqLen(v)); err != nil {
				return nil, err
			}
		}
		switch name {
		case "str", "repr", "fail":
			n, _, err := g.repr(vals...)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if err := g.charge(n); err != nil {
				return nil, err
			}
		case "int":
			if len(args) > 0 {
				if s, ok := args[0].(starlark.String); ok && len(s) > maxIntDigits {
					return nil, fmt.Errorf("int: string too long to convert (limit %d characters)", maxIntDigits)
				}
			}
		}
		return starlark.Call(th, b, args, kwargs)
	})
}

func guardedGetattr(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, dflt starlark.Value
	var name string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &name, &dflt); err != nil {
		return nil, err
	}
	v, err := guardedAttr(x, name)
	if err != nil && dflt != nil {
		return dflt, nil
	}
	return v, err
}

// guardedAttr is x.name, with the methods that can build large values
// wrapped in size checks.
func guardedAttr(x starlark.Value, name string) (starlark.Value, error) {
	ha, ok := x.(starlark.HasAttrs)
	if !ok {
		return nil, fmt.Errorf("%s has no .%s field or method", x.Type(), name)
	}
	v, err := ha.Attr(name)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("%s has no .%s field or method", x.Type(), name)
	}
	method, ok := v.(*starlark.Builtin)
	if !ok {
		return v, nil
	}
	check := methodCheck(x, name)
	if check == nil {
		return v, nil
	}
	return starlark.NewBuiltin(method.Name(), func(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := check(guardOf(th), args, kwargs); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return starlark.Call(th, method, args, kwargs)
	}).BindReceiver(x), nil
}

// nonAllocatingStringMethods only scan the string (or return a lazy
// iterator over it), so they cost time bounded by its size and no memory.
var nonAllocatingStringMethods = map[string]bool{
	"count": true, "endswith": true, "find": true, "index": true, "isalnum": true, "isalpha": true,
	"isdigit": true, "islower": true, "isspace": true, "istitle": true, "isupper": true, "rfind": true,
	"rindex": true, "startswith": true, "elems": true, "codepoints": true, "elem_ords": true, "codepoint_ords": true,
}

type methodChecker func(g *guard, args starlark.Tuple, kwargs []starlark.Tuple) error

// methodCheck returns the pre-call check for x.name, or nil when the method
// is O(1) or bounded by its receiver's size without retaining a copy.
func methodCheck(x starlark.Value, name string) methodChecker {
	switch x := x.(type) {
	case starlark.String:
		switch name {
		case "join":
			return func(g *guard, args starlark.Tuple, _ []starlark.Tuple) error {
				if len(args) != 1 {
					return nil // the method reports the arity error
				}
				if err := g.tree(args[0]); err != nil {
					return err
				}
				total, count := 0, 0
				if it, ok := args[0].(starlark.Iterable); ok {
					iter := it.Iterate()
					var v starlark.Value
					for iter.Next(&v) {
						if s, ok := v.(starlark.String); ok {
							total += len(s)
						}
						count++
					}
					iter.Done()
				}
				return g.size(total+len(x)*count, "joined string")
			}
		case "replace":
			return func(g *guard, args starlark.Tuple, _ []starlark.Tuple) error {
				if len(args) < 2 {
					return nil
				}
				old, ok1 := args[0].(starlark.String)
				repl, ok2 := args[1].(starlark.String)
				if !ok1 || !ok2 {
					return nil
				}
				n := strings.Count(string(x), string(old))
				if old == "" {
					n = utf8.RuneCountInString(string(x)) + 1
				}
				return g.size(len(x)+n*max(0, len(repl)-len(old)), "replaced string")
			}
		case "format":
			return func(g *guard, args starlark.Tuple, kwargs []starlark.Tuple) error {
				vals := append([]starlark.Value(nil), args...)
				for _, kv := range kwargs {
					vals = append(vals, kv[1])
				}
				// Each replacement field makes the string form of one
				// argument, any of them any number of times.
				_, widest, err := g.repr(vals...)
				if err != nil {
					return err
				}
				return g.size(len(x)+strings.Count(string(x), "{")*widest, "formatted string")
			}
		}
		if nonAllocatingStringMethods[name] {
			return nil
		}
		// Every other string method builds at most a few copies of x.
		return func(g *guard, _ starlark.Tuple, _ []starlark.Tuple) error { return g.charge(len(x)) }
	case *starlark.List:
		switch name {
		case "extend":
			return func(g *guard, args starlark.Tuple, _ []starlark.Tuple) error {
				if len(args) != 1 {
					return nil
				}
				if err := g.tree(args[0]); err != nil {
					return err
				}
				return g.size(x.Len()+seqLen(args[0]), "list")
			}
		case "index", "remove":
			return func(g *guard, args starlark.Tuple, _ []starlark.Tuple) error {
				if err := g.tree(x); err != nil {
					return err
				}
				for _, a := range args {
					if err := g.tree(a); err != nil {
						return err
					}
				}
				return nil
			}
		}
	case *starlark.Dict:
		switch name {
		case "get", "pop", "setdefault":
			return func(g *guard, args starlark.Tuple, _ []starlark.Tuple) error {
				for _, a := range args {
					if err := g.tree(a); err != nil {
						return err
					}
				}
				return nil
			}
		case "update":
			return func(g *guard, args starlark.Tuple, kwargs []starlark.Tuple) error {
				n := x.Len() + len(kwargs)
				for _, a := range args {
					if err := g.tree(a); err != nil {
						return err
					}
					n += max(0, seqLen(a))
				}
				return g.size(n, "dict")
			}
		case "items", "keys", "values":
			return func(g *guard, _ starlark.Tuple, _ []starlark.Tuple) error { return g.charge(x.Len()) }
		}
	}
	return nil
}
