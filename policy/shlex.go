package policy

import (
	"errors"
	"strings"
)

// errShellSyntax is returned by splitExample for unterminated quotes or a
// trailing backslash.
var errShellSyntax = errors.New("invalid shell syntax")

// splitExample splits a rule example into words the way the POSIX mode of
// Rust's shlex crate (which Codex uses) does: blanks separate words; single
// quotes are literal; inside double quotes a backslash escapes only $ ` " \
// and newline; outside quotes a backslash escapes any character and
// backslash-newline is a line continuation; # at the start of a word starts
// a comment. Operators such as | and ; are ordinary characters, as in shlex.
// Nothing is expanded.
func splitExample(s string) ([]string, error) {
	var (
		words  []string
		cur    strings.Builder
		inWord bool
	)
	flush := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			flush()
		case c == '#' && !inWord:
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '\\':
			i++
			if i >= len(s) {
				return nil, errShellSyntax
			}
			if s[i] == '\n' {
				continue
			}
			cur.WriteByte(s[i])
			inWord = true
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errShellSyntax
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			inWord = true
			closed := false
			for i++; i < len(s); i++ {
				d := s[i]
				if d == '"' {
					closed = true
					break
				}
				if d == '\\' && i+1 < len(s) {
					switch n := s[i+1]; n {
					case '$', '`', '"', '\\':
						cur.WriteByte(n)
						i++
						continue
					case '\n':
						i++
						continue
					}
				}
				cur.WriteByte(d)
			}
			if !closed {
				return nil, errShellSyntax
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return words, nil
}

// errQuoteNUL reports that a word with a NUL byte cannot be quoted.
var errQuoteNUL = errors.New("cannot quote a word containing NUL")

// quoteWord quotes one word for a POSIX shell so that splitExample gives it
// back unchanged. Words made only of safe characters stay bare; others are
// single-quoted, or double-quoted when they contain a single quote. The
// output matches Rust shlex's for the common cases Codex's errors show
// (`git 'a b' "it's"`), not necessarily for every input.
func quoteWord(w string) (string, error) {
	if w == "" {
		return "''", nil
	}
	if strings.IndexByte(w, 0) >= 0 {
		return "", errQuoteNUL
	}
	safe := true
	for i := 0; i < len(w); i++ {
		if !isSafeShellByte(w[i]) {
			safe = false
			break
		}
	}
	if safe {
		return w, nil
	}
	if !strings.ContainsRune(w, '\'') {
		return "'" + w + "'", nil
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(w); i++ {
		switch w[i] {
		case '"', '\\', '$', '`':
			b.WriteByte('\\')
		}
		b.WriteByte(w[i])
	}
	b.WriteByte('"')
	return b.String(), nil
}

func isSafeShellByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("+-./:@]_,=%", c) >= 0
}

// quoteWords joins argv into one line of words quoted by quoteWord; it
// fails when a word cannot be quoted.
func quoteWords(argv []string) (string, error) {
	parts := make([]string, len(argv))
	for i, w := range argv {
		q, err := quoteWord(w)
		if err != nil {
			return "", err
		}
		parts[i] = q
	}
	return strings.Join(parts, " "), nil
}

// joinExample renders argv as one shell-quoted line, or "unable to render
// example" when a word cannot be quoted, as Codex does.
func joinExample(argv []string) string {
	line, err := quoteWords(argv)
	if err != nil {
		return "unable to render example"
	}
	return line
}
