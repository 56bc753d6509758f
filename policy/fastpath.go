package policy

import (
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// Most rules files are nothing but top-level prefix_rule(...) and
// host_executable(...) calls with literal arguments. For those, parsing,
// compiling and interpreting Starlark is most of the cost of a load, so
// fastCalls recognises exactly that shape and the loader feeds the calls to
// the same builtins directly. Anything else (a variable, an operator, an
// unusual escape, indentation, a ';', even an error) makes fastCalls report
// false or the loader fall back to full evaluation, which is the reference:
// the fuzz test FuzzLoad checks that both paths agree.

type fastCall struct {
	name   string
	pos    Pos // of the '(' as Starlark reports it
	args   starlark.Tuple
	kwargs []starlark.Tuple
}

type fastParser struct {
	src  []byte
	i    int
	line int
	bol  int // offset of the current line's first byte
	path string
	// strs interns string values: rules files repeat program names a lot.
	strs map[string]starlark.String
}

// fastCalls returns the file's calls if it is in the literal-calls subset.
func fastCalls(path string, src []byte) ([]fastCall, bool) {
	if !utf8.Valid(src) || hasLoneCR(src) {
		return nil, false // the scanner treats a lone \r as a line break
	}
	p := &fastParser{src: src, line: 1, path: path, strs: map[string]starlark.String{}}
	var calls []fastCall
	for {
		p.skipLineSpace()
		if p.i >= len(p.src) {
			return calls, true
		}
		switch c := p.src[p.i]; {
		case c == '\n':
			p.newline()
			continue
		case c == '#':
			p.skipComment()
			continue
		case p.i != p.bol:
			return nil, false // indented statement: let Starlark report it
		}
		call, ok := p.call()
		if !ok {
			return nil, false
		}
		calls = append(calls, call)
		p.skipLineSpace()
		if p.i < len(p.src) && p.src[p.i] == '#' {
			p.skipComment()
		}
		if p.i < len(p.src) {
			if p.src[p.i] != '\n' {
				return nil, false
			}
			p.newline()
		}
	}
}

func (p *fastParser) newline() {
	p.i++
	p.line++
	p.bol = p.i
}

func (p *fastParser) skipLineSpace() {
	for p.i < len(p.src) && (p.src[p.i] == ' ' || p.src[p.i] == '\t' || p.src[p.i] == '\r') {
		p.i++
	}
}

func (p *fastParser) skipComment() {
	for p.i < len(p.src) && p.src[p.i] != '\n' {
		p.i++
	}
}

// skipSpace skips blanks, newlines and comments: inside brackets Starlark
// ignores line structure.
func (p *fastParser) skipSpace() {
	for p.i < len(p.src) {
		switch p.src[p.i] {
		case ' ', '\t', '\r':
			p.i++
		case '\n':
			p.newline()
		case '#':
			p.skipComment()
		default:
			return
		}
	}
}

func (p *fastParser) ident() string {
	start := p.i
	for p.i < len(p.src) {
		c := p.src[p.i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || p.i > start && c >= '0' && c <= '9' {
			p.i++
			continue
		}
		break
	}
	return string(p.src[start:p.i])
}

func (p *fastParser) call() (fastCall, bool) {
	name := p.ident()
	if name != "prefix_rule" && name != "host_executable" {
		return fastCall{}, false
	}
	if p.i >= len(p.src) || p.src[p.i] != '(' {
		return fastCall{}, false
	}
	// The statement starts a line, so the column is the name's length + 1
	// (all ASCII).
	c := fastCall{name: name, pos: Pos{File: p.path, Line: p.line, Col: len(name) + 1}}
	p.i++
	for {
		p.skipSpace()
		if p.i >= len(p.src) {
			return fastCall{}, false
		}
		if p.src[p.i] == ')' {
			p.i++
			return c, true
		}
		start := p.i
		if kw := p.ident(); kw != "" {
			p.skipSpace()
			if p.i >= len(p.src) || p.src[p.i] != '=' || p.i+1 < len(p.src) && p.src[p.i+1] == '=' {
				return fastCall{}, false
			}
			p.i++
			p.skipSpace()
			v, ok := p.value(0)
			if !ok {
				return fastCall{}, false
			}
			c.kwargs = append(c.kwargs, starlark.Tuple{starlark.String(kw), v})
		} else {
			p.i = start
			if len(c.kwargs) > 0 {
				return fastCall{}, false // positional after keyword: a Starlark error
			}
			v, ok := p.value(0)
			if !ok {
				return fastCall{}, false
			}
			c.args = append(c.args, v)
		}
		p.skipSpace()
		if p.i < len(p.src) && p.src[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.src) && p.src[p.i] == ')' {
			continue
		}
		return fastCall{}, false
	}
}

func (p *fastParser) value(depth int) (starlark.Value, bool) {
	if p.i >= len(p.src) {
		return nil, false
	}
	switch p.src[p.i] {
	case '"', '\'':
		return p.str()
	case '[':
		if depth >= 2 {
			return nil, false
		}
		p.i++
		var elems []starlark.Value
		for {
			p.skipSpace()
			if p.i >= len(p.src) {
				return nil, false
			}
			if p.src[p.i] == ']' {
				p.i++
				return starlark.NewList(elems), true
			}
			v, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			elems = append(elems, v)
			p.skipSpace()
			if p.i < len(p.src) && p.src[p.i] == ',' {
				p.i++
			} else if p.i >= len(p.src) || p.src[p.i] != ']' {
				return nil, false
			}
		}
	}
	return nil, false
}

// str reads a one-line string literal with only the simplest escapes;
// anything else (triple quotes, \x, \u, octal, line continuations) is left
// to Starlark.
func (p *fastParser) str() (starlark.Value, bool) {
	quote := p.src[p.i]
	if p.i+2 < len(p.src) && p.src[p.i+1] == quote && p.src[p.i+2] == quote {
		return nil, false
	}
	p.i++
	start := p.i
	var buf []byte
	escaped := false
	for p.i < len(p.src) {
		c := p.src[p.i]
		switch c {
		case quote:
			var s string
			if escaped {
				s = string(buf)
			} else {
				s = string(p.src[start:p.i])
			}
			p.i++
			v, ok := p.strs[s]
			if !ok {
				v = starlark.String(s)
				p.strs[s] = v
			}
			return v, true
		case '\n':
			return nil, false
		case '\\':
			if !escaped {
				buf = append(buf, p.src[start:p.i]...)
				escaped = true
			}
			if p.i+1 >= len(p.src) {
				return nil, false
			}
			switch e := p.src[p.i+1]; e {
			case '\\', '"', '\'':
				buf = append(buf, e)
			case 'n':
				buf = append(buf, '\n')
			case 't':
				buf = append(buf, '\t')
			case 'r':
				buf = append(buf, '\r')
			default:
				return nil, false
			}
			p.i += 2
			continue
		}
		if escaped {
			buf = append(buf, c)
		}
		p.i++
	}
	return nil, false
}

func hasLoneCR(src []byte) bool {
	for i, c := range src {
		if c == '\r' && (i+1 == len(src) || src[i+1] != '\n') {
			return true
		}
	}
	return false
}
