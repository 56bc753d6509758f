package escalate

import (
	"strconv"
	"unicode/utf8"
)

// The wrapper runs once per program start, so its side of the protocol avoids
// reflection: requests are encoded by hand and the two common answers are
// recognised by their exact bytes.

// AppendRequest appends the JSON encoding of r to b. Strings that are not
// valid UTF-8 are encoded with U+FFFD per bad byte, as encoding/json does; the
// wrapper checks Request.Lossless before acting on an Escalate answer.
func AppendRequest(b []byte, r *Request) []byte {
	b = append(b, `{"file":`...)
	b = appendJSONString(b, r.File)
	b = append(b, `,"argv":[`...)
	for i, a := range r.Argv {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, a)
	}
	b = append(b, `],"workdir":`...)
	b = appendJSONString(b, r.Workdir)
	b = append(b, `,"env":{`...)
	first := true
	for k, v := range r.Env {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, v)
	}
	return append(b, "}}"...)
}

// Lossless reports whether File and Argv survive JSON encoding unchanged
// (they are valid UTF-8). Escalating a lossy request would run a different
// command than the one the shell asked for.
func (r *Request) Lossless() bool {
	if !utf8.ValidString(r.File) {
		return false
	}
	for _, a := range r.Argv {
		if !utf8.ValidString(a) {
			return false
		}
	}
	return true
}

// The exact bytes of the two answers without fields: Response.MarshalJSON
// sends them, ParseResponse recognises them.
var (
	runResponse      = []byte(`{"action":"Run"}`)
	escalateResponse = []byte(`{"action":"Escalate"}`)
)

// ParseResponse decodes a Response, taking a fast path for the exact bytes
// every server sends for Run and Escalate.
func ParseResponse(payload []byte) (Response, error) {
	switch string(payload) {
	case string(runResponse):
		return Response{Action: Run}, nil
	case string(escalateResponse):
		return Response{Action: Escalate}, nil
	}
	var r Response
	err := r.UnmarshalJSON(payload)
	return r, err
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string literal. Control characters,
// quotes and backslashes are escaped; invalid UTF-8 becomes U+FFFD; U+2028 and
// U+2029 are escaped like encoding/json does so the output is also valid JS.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = strconv.AppendInt(b, int64(r&0xf), 16)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
