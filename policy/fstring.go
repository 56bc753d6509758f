package policy

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.starlark.net/syntax"
)

// F-strings, as Codex's rules dialect has them (starlark-rust 0.13 with
// f-strings enabled, checked against the Codex 0.97.0 binary):
//
//   - spelled f"..." or raw fr"..." (also with ' and triple quotes); F"",
//     rf"" and the like are not f-strings;
//   - the string's escapes are decoded first, then its value is read as a
//     format string: {{ and }} are literal braces, {name} inserts str(name),
//     {name!r} repr(name) and {name!s} str(name);
//   - inside the braces only a plain identifier, with optional spaces around
//     it: no expressions, attributes, indexes, format specs (":>10") or
//     nested braces ("Not a valid identifier: `x + 1`");
//   - malformed braces fail with "Invalid format: Unmatched '{' in format
//     string `...`" (or Standalone '}', Invalid conversion, Missing
//     conversion character).
//
// go.starlark.net cannot scan f-strings, so prescan removes the "f" and the
// parser reads a plain string literal at the same position. The rewriter
// then replaces that literal with "<format>".format(name, ...) (the str
// method, through the same checked attribute helper as any other method
// call), where <format> is the text with {} or {!r} for each name. Errors
// point at the source: invalid braces at the f-string, a bad or undefined
// name at its place inside the braces.

// maxCallArgs is go.starlark.net's limit on positional arguments in a call;
// an f-string with more names passes them as *[...].
const maxCallArgs = 255

// fstring expands the f-string literal lit, found at site. Errors come in
// source order, as Codex reports them: a bad name before malformed braces
// is reported first.
func (rw *rewriter) fstring(lit *syntax.Literal, site fstringSite) syntax.Expr {
	value, _ := lit.Value.(string)
	format, captures, formatErr := parseFormat(value)
	walk := rw.bodyWalker(lit.TokenPos, site)
	args := make([]syntax.Expr, len(captures))
	for i, c := range captures {
		pos := lit.TokenPos
		pos.Line, pos.Col = walk.to(c.pos)
		name, ok := captureName(c.text)
		if !ok {
			rw.fail(pos, "Not a valid identifier: `%s`", c.text)
			return lit
		}
		args[i] = &syntax.Ident{NamePos: pos, Name: name}
	}
	switch {
	case formatErr != nil:
		rw.fail(lit.TokenPos, "Invalid format: %s", formatErr)
		return lit
	case len(args) == 0:
		unescaped := strings.NewReplacer("{{", "{", "}}", "}").Replace(format)
		return &syntax.Literal{Token: syntax.STRING, TokenPos: lit.TokenPos, Raw: lit.Raw, Value: unescaped}
	}
	if len(args) > maxCallArgs {
		list := &syntax.ListExpr{Lbrack: lit.TokenPos, List: args, Rbrack: lit.TokenPos}
		spread := helperCall(helperSpread, lit.TokenPos, list)
		args = []syntax.Expr{&syntax.UnaryExpr{OpPos: lit.TokenPos, Op: syntax.STAR, X: spread}}
	}
	formatLit := &syntax.Literal{Token: syntax.STRING, TokenPos: lit.TokenPos, Raw: lit.Raw, Value: format}
	method := &syntax.Literal{Token: syntax.STRING, TokenPos: lit.TokenPos, Raw: `"format"`, Value: "format"}
	return &syntax.CallExpr{
		Fn:     helperCall(helperAttr, lit.TokenPos, formatLit, method),
		Lparen: lit.TokenPos,
		Args:   args,
		Rparen: lit.TokenPos,
	}
}

// capture is one {name} of an f-string.
type capture struct {
	text string // between the braces, before any !r or !s
	pos  int    // offset of text in the string's value
	repr bool   // !r
}

// parseFormat reads an f-string's value as Codex does and returns the
// equivalent str.format format string and the captures in order. On an
// error, captures are those before it.
func parseFormat(s string) (format string, captures []capture, err error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "{{"), strings.HasPrefix(s[i:], "}}"):
			b.WriteString(s[i : i+2])
			i += 2
		case s[i] == '{':
			c, next, err := parseCapture(s, i)
			if err != nil {
				return "", captures, err
			}
			captures = append(captures, c)
			if c.repr {
				b.WriteString("{!r}")
			} else {
				b.WriteString("{}")
			}
			i = next
		case s[i] == '}':
			//lint:ignore ST1005 Codex's (starlark-rust's) message, word for word
			return "", captures, fmt.Errorf("Standalone '}' in format string `%s`", s)
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), captures, nil
}

// parseCapture reads the capture whose '{' is s[open]; next is the offset
// after its '}'.
func parseCapture(s string, open int) (c capture, next int, err error) {
	//lint:ignore ST1005 Codex's (starlark-rust's) message, word for word
	unmatched := fmt.Errorf("Unmatched '{' in format string `%s`", s)
	for j := open + 1; j < len(s); j++ {
		switch s[j] {
		case '}':
			return capture{text: s[open+1 : j], pos: open + 1}, j + 1, nil
		case '{':
			return capture{}, 0, unmatched
		case '!':
			c := capture{text: s[open+1 : j], pos: open + 1}
			var conv byte
			if j+1 < len(s) {
				conv = s[j+1]
			}
			switch conv {
			case 'r', 's':
				c.repr = conv == 'r'
			case '}':
				//lint:ignore ST1005 Codex's (starlark-rust's) message, word for word
				return capture{}, 0, fmt.Errorf("Missing conversion character in format string `%s`", s)
			default:
				//lint:ignore ST1005 Codex's (starlark-rust's) message, word for word
				return capture{}, 0, fmt.Errorf("Invalid conversion in format string `%s`", s)
			}
			if j+2 >= len(s) || s[j+2] != '}' {
				return capture{}, 0, unmatched
			}
			return c, j + 3, nil
		}
	}
	return capture{}, 0, unmatched
}

// captureName returns the identifier a capture names: ASCII, spaces around
// it allowed, not a keyword or reserved word of starlark-rust.
func captureName(text string) (string, bool) {
	name := strings.Trim(text, " ")
	if name == "" || name[0] >= '0' && name[0] <= '9' || isStarlarkRustKeyword(name) {
		return "", false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= utf8.RuneSelf || !isIdentByte(c) {
			return "", false
		}
	}
	return name, true
}

// isStarlarkRustKeyword reports whether starlark-rust's lexer takes name for
// a keyword or a reserved word. (A switch rather than a map: no work at
// package init, which every start of the binary pays.)
func isStarlarkRustKeyword(name string) bool {
	switch name {
	case "and", "break", "continue", "def", "elif", "else", "for", "if", "in", "lambda",
		"load", "not", "or", "pass", "return",
		// reserved
		"as", "assert", "async", "await", "class", "del", "except", "finally", "from",
		"global", "import", "is", "nonlocal", "raise", "try", "while", "with", "yield":
		return true
	}
	return false
}

// bodyWalker maps offsets in the value of the f-string at site back to
// positions in the source. start is where the parser saw the literal: the
// position of the "f".
func (rw *rewriter) bodyWalker(start syntax.Position, site fstringSite) *stringWalker {
	quote := site.offset + 1
	if site.raw {
		quote++
	}
	body := quote + 1
	if quote+2 < len(rw.src) && rw.src[quote+1] == rw.src[quote] && rw.src[quote+2] == rw.src[quote] {
		body = quote + 3
	}
	return &stringWalker{
		src:  rw.src[body:],
		raw:  site.raw,
		line: start.Line,
		col:  start.Col + int32(body-site.offset),
	}
}

// stringWalker steps through a string literal's source as go.starlark.net
// decodes it, counting decoded bytes and source lines and columns.
type stringWalker struct {
	src       []byte // from the current source byte on
	raw       bool
	decoded   int // bytes of value before src
	line, col int32
}

// to advances to the source of value byte n and returns its position.
// Offsets must not decrease from one call to the next.
func (w *stringWalker) to(n int) (line, col int32) {
	for w.decoded < n && len(w.src) > 0 {
		w.step()
	}
	return w.line, w.col
}

// step consumes one source unit: a character, a line break or an escape.
func (w *stringWalker) step() {
	if w.src[0] == '\\' && !w.raw && len(w.src) > 1 {
		w.escape()
		return
	}
	w.decoded += w.char()
}

// char consumes a character or a line break (\n, \r\n or \r, all read as
// \n) and returns how many value bytes it makes.
func (w *stringWalker) char() int {
	switch c := w.src[0]; c {
	case '\n', '\r':
		w.src = w.src[1:]
		if c == '\r' && len(w.src) > 0 && w.src[0] == '\n' {
			w.src = w.src[1:]
		}
		w.line, w.col = w.line+1, 1
		return 1
	}
	r, size := utf8.DecodeRune(w.src) // an invalid byte reads as U+FFFD
	w.src = w.src[size:]
	w.col++
	return utf8.RuneLen(r)
}

// escape consumes a backslash escape. The parser has accepted the literal,
// so the escape is well formed.
func (w *stringWalker) escape() {
	e := w.src[1]
	size, value := 2, 1
	switch {
	case e == '\n' || e == '\r': // a line continuation makes nothing
		w.src, w.col = w.src[1:], w.col+1
		w.char()
		return
	case e >= '0' && e <= '7':
		for size < 4 && size < len(w.src) && w.src[size] >= '0' && w.src[size] <= '7' {
			size++
		}
	case e == 'x':
		size = 4
	case e == 'u' || e == 'U':
		size = 6
		if e == 'U' {
			size = 10
		}
		if n, err := strconv.ParseUint(string(w.src[2:min(size, len(w.src))]), 16, 32); err == nil {
			value = utf8.RuneLen(rune(n))
		}
	}
	size = min(size, len(w.src))
	w.src, w.col, w.decoded = w.src[size:], w.col+int32(size), w.decoded+value
}
