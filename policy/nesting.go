package policy

import "bytes"

// tooDeep scans source for bracket nesting or runs of unary operators deeper
// than limit. go.starlark.net's parser is recursive descent, so a 1 MiB file
// of "((((" or "- - - -" would otherwise recurse a million frames deep.
// String literals (including triple-quoted ones) and comments are skipped;
// the scan is approximate only in the direction of being stricter. It
// returns the offending position.
func tooDeep(src []byte, limit int) (line, col int, ok bool) {
	depth, unary := 0, 0
	line, lineStart := 1, 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '\n':
			line, lineStart = line+1, i+1
			continue
		case '\'', '"':
			end := stringEnd(src, i)
			for _, b := range src[i:end] {
				if b == '\n' {
					line++
				}
			}
			if nl := bytes.LastIndexByte(src[i:end], '\n'); nl >= 0 {
				lineStart = i + nl + 1
			}
			i = end - 1
		case '#':
			for i+1 < len(src) && src[i+1] != '\n' {
				i++
			}
		case '(', '[', '{':
			depth++
			if depth > limit {
				return line, i - lineStart + 1, false
			}
		case ')', ']', '}':
			depth--
		case '-', '+', '~':
			unary++
			if unary > limit {
				return line, i - lineStart + 1, false
			}
			continue
		case ' ', '\t', '\r':
			continue
		}
		unary = 0
	}
	return 0, 0, true
}

// stringEnd returns the offset just past the string literal starting at
// src[i] (a quote): triple-quoted strings run to the matching triple quote,
// others to the closing quote or the end of the line. Backslash escapes are
// honoured.
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
			continue
		case '\n':
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
