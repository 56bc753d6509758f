package policy

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// prepared is a rules file ready for the parser. One linear pass over the
// source (prescan) does four jobs that need to know where strings and
// comments are:
//
//   - it bounds bracket and unary-operator nesting: go.starlark.net's parser
//     is recursive descent, so a 1 MiB file of "((((" or "- - - -" would
//     otherwise recurse a million frames deep;
//   - it keeps NUL bytes from ending the file early: go.starlark.net's
//     scanner takes a NUL outside a string for the end of the input, which
//     would silently drop every rule after it. A NUL in a comment is
//     blanked (Codex accepts it there); elsewhere outside strings it is an
//     error;
//   - it finds the f-strings, which go.starlark.net cannot scan, and removes
//     their "f" so that the parser reads a plain string literal at the same
//     position (see fstring.go for how they are then expanded);
//   - it records where top-level statements start, so that a large file can
//     be parsed in portions on several cores (see parse.go).
type prepared struct {
	text     []byte                  // what the parser reads
	fstrings map[linecol]fstringSite // by the position the parser gives their literal
	starts   []stmtStart             // top-level statements after the first
}

// linecol is a position as go.starlark.net counts it: lines split at \n,
// \r\n or a lone \r; columns count runes from 1.
type linecol struct{ line, col int32 }

// fstringSite is where an f-string starts in the original source.
type fstringSite struct {
	offset int  // of the "f"
	raw    bool // fr"..."
}

// stmtStart is the start of a line that begins a top-level statement.
type stmtStart struct {
	offset int
	line   int32
}

// scanError is source prescan refuses, at pos.
type scanError struct {
	pos linecol
	msg string
}

// prescan prepares src. It fails only on nesting deeper than maxNesting
// and NUL bytes outside strings and comments; every other error is left to
// the parser, which reports it exactly. The scan is approximate only in the
// direction of being stricter about nesting.
func prescan(src []byte, maxNesting int) (*prepared, *scanError) {
	p := &prepared{text: src}
	copied := false
	edit := func() []byte { // p.text, made a copy of src on the first edit
		if !copied {
			p.text, copied = bytes.Clone(src), true
		}
		return p.text
	}
	var (
		depth, unary int
		line         int32 = 1
		lineStart    int
		// continued is set by a backslash ending a line and cleared by the
		// next token: the line it joins does not start a statement.
		continued bool
		// The column of colOffset on the current line: f-string columns are
		// counted on from the last one, so that the scan stays linear.
		colOffset int
		col       int32 = 1
	)
	newline := func(next int) {
		line++
		lineStart, colOffset, col = next, next, 1
	}
	columnOf := func(i int) int32 {
		col += runeCount(src[colOffset:i])
		colOffset = i
		return col
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if i == lineStart && i > 0 && depth == 0 && !continued && startsStatement(src[i:]) {
			p.starts = append(p.starts, stmtStart{offset: i, line: line})
		}
		switch c {
		case '\n':
			newline(i + 1)
			continue
		case '\r':
			if i+1 == len(src) || src[i+1] != '\n' { // else the \n ends the line
				newline(i + 1)
			}
			continue
		case '\\':
			continued = i+1 < len(src) && (src[i+1] == '\n' || src[i+1] == '\r')
			continue
		case '\'', '"':
			end := stringEnd(src, i)
			if start, raw, ok := fstringPrefix(src, i); ok {
				if p.fstrings == nil {
					p.fstrings = map[linecol]fstringSite{}
				}
				p.fstrings[linecol{line, columnOf(start)}] = fstringSite{offset: start, raw: raw}
				// Drop the "f": the literal (with its "r", if any) moves
				// one byte left and a blank keeps the rest in place.
				text := edit()
				copy(text[start:end-1], src[start+1:end])
				text[end-1] = ' '
			}
			for j := i; j < end; j++ {
				switch src[j] {
				case '\n':
					newline(j + 1)
				case '\r':
					if j+1 == len(src) || src[j+1] != '\n' {
						newline(j + 1)
					}
				}
			}
			i = end - 1
		case '#':
			for i+1 < len(src) && src[i+1] != '\n' && src[i+1] != '\r' {
				i++
				if src[i] == 0 {
					edit()[i] = ' '
				}
			}
		case 0:
			return nil, &scanError{linecol{line, columnOf(i)}, "Parse error: NUL byte outside a string"}
		case '(', '[', '{':
			depth++
			if depth > maxNesting {
				return nil, tooDeep(line, columnOf(i), maxNesting)
			}
		case ')', ']', '}':
			depth--
		case '-', '+', '~':
			unary++
			if unary > maxNesting {
				return nil, tooDeep(line, columnOf(i), maxNesting)
			}
			continue
		case ' ', '\t', '\f':
			continue
		}
		unary = 0
		continued = false
	}
	return p, nil
}

func tooDeep(line, col int32, limit int) *scanError {
	return &scanError{linecol{line, col}, fmt.Sprintf("Parse error: nesting deeper than %d levels", limit)}
}

// stringEnd returns the offset just past the string literal starting at
// src[i] (a quote): triple-quoted strings run to the matching triple quote,
// others to the closing quote or the end of the line. Backslash escapes are
// honoured (in raw strings too, as the scanner does).
func stringEnd(src []byte, i int) int {
	q := src[i]
	triple := i+2 < len(src) && src[i+1] == q && src[i+2] == q
	j := i + 1
	if triple {
		j = i + 3
	}
	for j < len(src) {
		switch src[j] {
		case '\\':
			j += 2
			if j < len(src) && src[j-1] == '\r' && src[j] == '\n' {
				j++ // an escaped \r\n is one line break
			}
			continue
		case '\n', '\r':
			if !triple {
				return j
			}
		case q:
			if !triple {
				return j + 1
			}
			if j+2 < len(src) && src[j+1] == q && src[j+2] == q {
				return j + 3
			}
		}
		j++
	}
	return len(src)
}

// fstringPrefix reports whether the quote at src[i] opens an f-string:
// f"..." or the raw fr"..." (Codex's dialect has no other spellings), the
// prefix not being the end of a longer identifier.
func fstringPrefix(src []byte, i int) (start int, raw bool, ok bool) {
	switch {
	case i >= 1 && src[i-1] == 'f' && (i == 1 || !isIdentByte(src[i-2])):
		return i - 1, false, true
	case i >= 2 && src[i-1] == 'r' && src[i-2] == 'f' && (i == 2 || !isIdentByte(src[i-3])):
		return i - 2, true, true
	}
	return 0, false, false
}

// isIdentByte reports whether b can continue an identifier (any non-ASCII
// byte counts: go.starlark.net accepts Unicode letters).
func isIdentByte(b byte) bool {
	return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b >= utf8.RuneSelf
}

// startsStatement reports whether a line starting with line (not in any
// bracket, string or continuation) starts a new top-level statement rather
// than continuing one: it is not indented, blank or a comment, and not the
// else/elif of an if.
func startsStatement(line []byte) bool {
	switch line[0] {
	case ' ', '\t', '\f', '\r', '\n', '#':
		return false
	}
	if len(line) >= 4 && (string(line[:4]) == "else" || string(line[:4]) == "elif") {
		return len(line) > 4 && isIdentByte(line[4]) // else_ = 1 is a statement
	}
	return true
}

// runeCount counts runes as the scanner does: each invalid byte is one.
func runeCount(b []byte) int32 {
	n := int32(0)
	for len(b) > 0 {
		if b[0] < utf8.RuneSelf {
			b = b[1:]
		} else {
			_, size := utf8.DecodeRune(b)
			b = b[size:]
		}
		n++
	}
	return n
}
