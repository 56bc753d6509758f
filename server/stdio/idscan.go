package stdio

// idScanner finds the "id" member of a JSON object fed to it in pieces,
// without keeping the object: an oversized message is discarded as it
// streams in, and this is what lets its error reply still name the request
// it answers, so the client's call fails at once instead of waiting
// forever. Only a top-level "id" whose value is a string or a number counts
// (as usableID); the last one wins, as with encoding/json. It assumes the
// input is JSON: on anything else it may find nothing, never panics.
type idScanner struct {
	started  bool // seen the first non-space byte
	object   bool // ... and it was '{'
	depth    int
	inString bool
	escaped  bool

	// At depth 1: whether the string being read is a key, and what is
	// known of it.
	expectKey bool
	keyIsKey  bool   // the current string is a key
	key       []byte // the key's bytes so far (at most 3: enough to tell "id")
	keyEscape bool   // the key holds an escape: not taken as "id"
	afterID   bool   // the last key was "id" and its value has not started

	value    []byte // the id value being captured (quotes included for a string)
	inValue  bool
	overflow bool
	id       []byte // the last complete id
}

// maxIDBytes bounds a captured id; a longer one is not used.
const maxIDBytes = 256

func (s *idScanner) feed(p []byte) {
	for _, c := range p {
		s.step(c)
	}
}

func (s *idScanner) step(c byte) {
	if !s.started {
		switch c {
		case ' ', '\t', '\r', '\n':
			return
		}
		s.started = true
		s.object = c == '{'
	}
	if !s.object {
		return
	}
	if s.inValue && !s.inString {
		// A number id ends at the first byte that cannot be part of it.
		if c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' || (c >= '0' && c <= '9') {
			s.capture(c)
			return
		}
		s.endValue()
	}
	if s.inString {
		if s.inValue {
			s.capture(c)
		}
		switch {
		case s.escaped:
			s.escaped = false
			s.keyEscape = s.keyEscape || s.keyIsKey
		case c == '\\':
			s.escaped = true
		case c == '"':
			s.inString = false
			if s.inValue {
				s.endValue()
			}
			if s.keyIsKey {
				s.keyIsKey = false
				s.afterID = !s.keyEscape && string(s.key) == "id"
			}
		default:
			if s.keyIsKey && len(s.key) < 3 {
				s.key = append(s.key, c)
			}
		}
		return
	}
	switch c {
	case ' ', '\t', '\r', '\n', ':':
		return
	case '"':
		s.inString = true
		switch {
		case s.depth == 1 && s.expectKey:
			s.expectKey, s.keyIsKey, s.keyEscape, s.key = false, true, false, s.key[:0]
		case s.depth == 1 && s.afterID:
			s.startValue(c)
		}
		return
	case '{', '[':
		s.depth++
		if c == '{' && s.depth == 1 {
			s.expectKey = true
		}
	case '}', ']':
		s.depth--
	case ',':
		if s.depth == 1 {
			s.expectKey = true
		}
	default:
		if s.depth == 1 && s.afterID && (c == '-' || (c >= '0' && c <= '9')) {
			s.startValue(c)
			return
		}
	}
	s.afterID = false // the id's value was something else (object, true, ...)
}

func (s *idScanner) startValue(c byte) {
	s.afterID, s.inValue, s.overflow, s.value = false, true, false, append(s.value[:0], c)
}

func (s *idScanner) capture(c byte) {
	if len(s.value) >= maxIDBytes {
		s.overflow = true
		return
	}
	s.value = append(s.value, c)
}

func (s *idScanner) endValue() {
	s.inValue = false
	if s.overflow {
		s.id = nil
		return
	}
	s.id = append(s.id[:0], s.value...)
}

// ID returns the id found, nil if none.
func (s *idScanner) ID() []byte {
	if len(s.id) == 0 {
		return nil
	}
	return s.id
}
