package policy

import (
	"fmt"
	"strings"
	"unicode"
)

// rustDebugString quotes s as Rust's {:?} does for a str: backslash escapes
// for quote, backslash, \t \r \n \0, and \u{..} for other non-printable
// characters. Codex's error texts embed this form.
func rustDebugString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\n':
			b.WriteString(`\n`)
		case 0:
			b.WriteString(`\0`)
		default:
			if unicode.IsPrint(r) || r == ' ' {
				b.WriteRune(r)
			} else {
				fmt.Fprintf(&b, `\u{%x}`, r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// rustDebugList renders a list of strings as Rust's {:?} of a Vec<String>.
func rustDebugList(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = rustDebugString(s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}
