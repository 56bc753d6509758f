package engine

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/execgate/execgate/policy"
)

// The agent chooses most of what a prompt shows (the command, its working
// directory, a directory name inside a rules path), and a terminal or a
// client's prompt renders control characters: CR and ESC rewrite what is on
// the screen, a newline adds lines ("Rule: ..." that no rule wrote), bidi
// controls reorder text. So every string shown to a person goes through
// printable.

// Printable returns s with everything that is not a visible character or a
// plain space escaped: "\n", "\r", "\t", other control characters as
// "\x1b", and format, separator, private-use and unassigned code points
// (bidi overrides, zero-width characters, U+2028) as "\u202e"; bytes that
// are not UTF-8 as "\xff". A backslash is left as it is, so the escapes
// can be told from the text only by reading them: they never reach the
// terminal as the characters they stand for, which is what matters.
func Printable(s string) string {
	if strings.IndexFunc(s, needsEscape) < 0 {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[0])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && needsEscape(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case needsEscape(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[:size])
		}
		s = s[size:]
	}
	return b.String()
}

// needsEscape: everything but letters, marks, numbers, punctuation, symbols
// and spaces (utf8.RuneError stands for a byte that is not UTF-8).
func needsEscape(r rune) bool {
	return !unicode.IsGraphic(r) || r == utf8.RuneError
}

// QuoteCommand renders argv for a person: one shell-quoted line (the
// policy's quoting, as in its reasons), then made printable.
func QuoteCommand(argv []string) string {
	return Printable(policy.RenderCommand(argv))
}
