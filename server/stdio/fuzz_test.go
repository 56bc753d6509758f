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
		msg := c.decode(line, tooLong)
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
