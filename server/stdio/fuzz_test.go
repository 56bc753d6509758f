package stdio

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
)

// Every line either becomes a message for the server or is answered with
// exactly one JSON-RPC error line; nothing panics.
func FuzzDecodeLine(f *testing.F) {
	for _, seed := range []string{
		"", " ", "{}", "[]", "null", "42", `"x"`, "not json",
		`{"jsonrpc":"2.0","id":1,"method":"ping"}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":1,"result":{}}`,
		`{"jsonrpc":"2.0","id":1}`,
		`{"jsonrpc":"1.0","id":"a","method":"x"}`,
		`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`,
		`{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}`,
	} {
		f.Add([]byte(seed), false)
	}
	f.Add([]byte("x"), true)
	f.Fuzz(func(t *testing.T, line []byte, tooLong bool) {
		var out bytes.Buffer
		c := &conn{w: &out, max: 64, log: slog.New(slog.DiscardHandler), closed: make(chan struct{})}
		var over *oversize
		if tooLong {
			over = &oversize{size: len(line), id: usableID(line)}
		}
		msg := c.decode(line, over)
		if msg != nil {
			if tooLong || out.Len() != 0 {
				t.Fatalf("line %q both delivered and answered (%q)", line, out.String())
			}
			return
		}
		replies := bytes.Split(bytes.TrimSuffix(out.Bytes(), []byte("\n")), []byte("\n"))
		if len(replies) != 1 {
			t.Fatalf("line %q answered with %d lines: %q", line, len(replies), out.String())
		}
		var r struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      json.RawMessage `json:"id"`
			Error   *struct {
				Code int `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(replies[0], &r); err != nil || r.JSONRPC != "2.0" || r.Error == nil || len(r.ID) == 0 {
			t.Fatalf("line %q answered with %q", line, replies[0])
		}
		if r.Error.Code != -32700 && r.Error.Code != -32600 {
			t.Fatalf("line %q: code %d", line, r.Error.Code)
		}
	})
}

// The id found in an oversized line is the one a JSON decoder sees, fed in
// any split. (It may miss an id longer than maxIDBytes, and one whose key is
// spelled with escapes.)
func FuzzIDScanner(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"ping"}`,
		`{"method":"tools/call","params":{"id":5,"x":"a\"id\":7"},"jsonrpc":"2.0","id":"abc"}`,
		`{"id":-1.5e3}`, `{"id" : "x\\y\""}`, `{"id":{"id":1}}`, `{"id":1,"id":2}`,
		`{"a":[{"id":3}],"id":null}`, `{"\u0069d":4}`, `[{"id":1}]`, ` {"idx":1,"i":2}`,
	} {
		f.Add([]byte(seed), uint8(3))
	}
	f.Fuzz(func(t *testing.T, line []byte, split uint8) {
		var s idScanner
		for rest := line; len(rest) > 0; {
			n := min(int(split)+1, len(rest))
			s.feed(rest[:n])
			rest = rest[n:]
		}
		got := s.ID()
		var m map[string]json.RawMessage
		if json.Unmarshal(line, &m) != nil {
			return // not a JSON object: anything goes, as long as nothing panicked
		}
		want := m["id"]
		if len(want) > 0 && want[0] != '"' && want[0] != '-' && (want[0] < '0' || want[0] > '9') {
			want = nil // not a string or a number: not usable
		}
		switch {
		case bytes.Equal(got, want):
		case got == nil && len(want) > maxIDBytes:
		case bytes.Contains(line, []byte(`\`)):
			// A key spelled with escapes ("\u0069d") is not read as "id".
		default:
			t.Fatalf("line %q: scanner found id %q, decoder %q", line, got, want)
		}
	})
}
