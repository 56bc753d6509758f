package output

import "unicode/utf8"

// sanitizer turns a byte stream into valid UTF-8, replacing each byte that is
// not part of a valid encoding with U+FFFD. A rune split across two writes is
// held back (at most utf8.UTFMax-1 bytes) until the next write decides it.
type sanitizer struct {
	pend  [utf8.UTFMax]byte
	npend int
}

func (s *sanitizer) pendingLen() int { return s.npend }

// appendClean appends the clean form of p (preceded by any held-back bytes)
// to dst.
func (s *sanitizer) appendClean(dst, p []byte) []byte {
	if s.npend > 0 {
		// Complete the held-back rune with as few bytes of p as needed.
		var buf [2 * utf8.UTFMax]byte
		n := copy(buf[:], s.pend[:s.npend])
		n += copy(buf[n:], p[:min(len(p), utf8.UTFMax)])
		if !utf8.FullRune(buf[:n]) {
			// Still incomplete: p was tiny and is all continuation bytes.
			copy(s.pend[:], buf[:n])
			s.npend = n
			return dst
		}
		r, size := utf8.DecodeRune(buf[:n])
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, buf[:size]...)
		}
		used := size - s.npend
		if used < 0 {
			// The held-back bytes themselves were invalid: re-scan the rest of
			// them in front of p.
			rest := append([]byte(nil), s.pend[size:s.npend]...)
			s.npend = 0
			dst = s.appendClean(dst, rest)
			return s.appendClean(dst, p)
		}
		s.npend = 0
		p = p[used:]
	}
	for len(p) > 0 {
		// Fast path for ASCII runs.
		i := 0
		for i < len(p) && p[i] < utf8.RuneSelf {
			i++
		}
		dst = append(dst, p[:i]...)
		p = p[i:]
		if len(p) == 0 {
			break
		}
		if !utf8.FullRune(p) {
			s.npend = copy(s.pend[:], p)
			break
		}
		r, size := utf8.DecodeRune(p)
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, p[:size]...)
		}
		p = p[size:]
	}
	return dst
}
