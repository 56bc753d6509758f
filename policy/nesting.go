package policy

// tooDeep scans source for bracket nesting or runs of unary operators deeper
// than limit. go.starlark.net's parser is recursive descent, so a 1 MiB file
// of "((((" or "- - - -" would otherwise recurse a million frames deep.
// Quotes and comments are skipped roughly; a pathological string can only
// make the check stricter, never looser. It returns the offending position.
func tooDeep(src []byte, limit int) (line, col int, ok bool) {
	depth, unary := 0, 0
	line, col = 1, 0
	var quote byte
	for i := 0; i < len(src); i++ {
		c := src[i]
		col++
		if c == '\n' {
			line, col = line+1, 0
			quote = 0 // strings are scanned as ending at a newline
			continue
		}
		if quote != 0 {
			switch c {
			case '\\':
				i++
				col++
			case quote:
				quote = 0
			}
			continue
		}
		switch c {
		case '\'', '"':
			quote = c
		case '#':
			for i+1 < len(src) && src[i+1] != '\n' {
				i++
			}
		case '(', '[', '{':
			depth++
			if depth > limit {
				return line, col, false
			}
		case ')', ']', '}':
			depth--
		case '-', '+', '~':
			unary++
			if unary > limit {
				return line, col, false
			}
			continue
		case ' ', '\t', '\r':
			continue
		}
		unary = 0
	}
	return 0, 0, true
}
