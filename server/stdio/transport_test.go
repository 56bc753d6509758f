package stdio

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// rawPeer drives a server through the Transport with raw lines.
type rawPeer struct {
	t    *testing.T
	in   *io.PipeWriter
	out  *bufio.Reader
	done chan error
}

func startServer(t *testing.T, maxLine int) *rawPeer {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	srv := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "0"}, nil)
	done := make(chan error, 1)
	go func() {
		done <- srv.Run(context.Background(), &Transport{Reader: inR, Writer: outW, MaxLineBytes: maxLine})
		outW.Close()
	}()
	p := &rawPeer{t: t, in: inW, out: bufio.NewReader(outR), done: done}
	t.Cleanup(func() { inW.Close(); outR.Close() })
	return p
}

func (p *rawPeer) send(s string) {
	p.t.Helper()
	if _, err := io.WriteString(p.in, s); err != nil {
		p.t.Fatalf("write: %v", err)
	}
}

type reply struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (p *rawPeer) recv() reply {
	p.t.Helper()
	type res struct {
		line string
		err  error
	}
	ch := make(chan res, 1)
	go func() {
		l, err := p.out.ReadString('\n')
		ch <- res{l, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			p.t.Fatalf("reading reply: %v", r.err)
		}
		var rep reply
		if err := json.Unmarshal([]byte(r.line), &rep); err != nil {
			p.t.Fatalf("reply %q is not JSON: %v", r.line, err)
		}
		return rep
	case <-time.After(5 * time.Second):
		p.t.Fatal("no reply within 5s")
	}
	return reply{}
}

const initLine = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}` + "\n"

func TestMalformedLinesGetErrorsAndServerStaysUp(t *testing.T) {
	tests := []struct {
		name     string
		line     string
		wantCode int
		wantID   string
	}{
		{"blank line", "\n", -32700, "null"},
		{"whitespace line", "  \t\r\n", -32700, "null"},
		{"not JSON", "hello there\n", -32700, "null"},
		{"truncated JSON", `{"jsonrpc":"2.0","id":5,` + "\n", -32700, "null"},
		{"oversized", `{"jsonrpc":"2.0","id":6,"method":"ping","params":{"x":"` + strings.Repeat("a", 3000) + `"}}` + "\n", -32700, "6"},
		{"oversized, id last", `{"method":"ping","params":{"x":"` + strings.Repeat("a", 3000) + `","id":99},"jsonrpc":"2.0","id":"s"}` + "\n", -32700, `"s"`},
		{"oversized, object id", `{"method":"ping","params":{"x":"` + strings.Repeat("a", 3000) + `"},"jsonrpc":"2.0","id":{}}` + "\n", -32700, "null"},
		{"wrong version keeps id", `{"jsonrpc":"1.0","id":7,"method":"ping"}` + "\n", -32600, "7"},
		{"string id kept", `{"jsonrpc":"1.0","id":"x","method":"ping"}` + "\n", -32600, `"x"`},
		{"object id dropped", `{"jsonrpc":"1.0","id":{},"method":"ping"}` + "\n", -32600, "null"},
		{"batch", `[{"jsonrpc":"2.0","id":8,"method":"ping"}]` + "\n", -32600, "null"},
		{"JSON scalar", "42\n", -32600, "null"},
		{"id only", `{"jsonrpc":"2.0","id":10}` + "\n", -32600, "10"},
		{"unknown method", `{"jsonrpc":"2.0","id":9,"method":"no/such"}` + "\n", -32601, "9"},
	}
	p := startServer(t, 2048)
	p.send(initLine)
	if r := p.recv(); r.Error != nil {
		t.Fatalf("initialize failed: %+v", r.Error)
	}
	p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n")
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.t = t
			p.send(tt.line)
			r := p.recv()
			if r.Error == nil || r.Error.Code != tt.wantCode {
				t.Fatalf("got %+v, want error code %d", r, tt.wantCode)
			}
			if string(r.ID) != tt.wantID {
				t.Errorf("reply id = %s, want %s", r.ID, tt.wantID)
			}
			// The server still answers a valid request afterwards.
			id := 100 + i
			p.send(`{"jsonrpc":"2.0","id":` + itoa(id) + `,"method":"ping"}` + "\n")
			if r := p.recv(); r.Error != nil || string(r.ID) != itoa(id) {
				t.Fatalf("ping after %s: %+v", tt.name, r)
			}
		})
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestEOFEndsServe(t *testing.T) {
	p := startServer(t, 0)
	p.send(initLine)
	p.recv()
	p.in.Close()
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("Run after EOF = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server did not stop after end of input")
	}
}

func TestReadLine(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want []string
		over []int // the size of an oversize line, 0 for one that fits
	}{
		{"simple", "a\nbc\n", 10, []string{"a", "bc", ""}, []int{0, 0, 0}},
		{"no final newline", "a\nbc", 10, []string{"a", "bc"}, []int{0, 0}},
		{"exact max", "abcd\nx\n", 4, []string{"abcd", "x", ""}, []int{0, 0, 0}},
		{"over max then ok", "abcde\nx\n", 4, []string{"", "x", ""}, []int{5, 0, 0}},
		{"long over max", strings.Repeat("z", 100) + "\nx", 4, []string{"", "x"}, []int{100, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tt.in), 16)
			for i := range tt.want {
				line, over, err := readLine(br, tt.max, nil)
				size := 0
				if over != nil {
					size = over.size
				}
				if string(line) != tt.want[i] || size != tt.over[i] {
					t.Fatalf("line %d = %q over %+v, want %q size %d", i, line, over, tt.want[i], tt.over[i])
				}
				if i == len(tt.want)-1 && err != io.EOF {
					t.Fatalf("last line err = %v, want EOF", err)
				}
			}
		})
	}
}

// TestReadLineReportsLongLines: a line that fills the read buffer counts as
// work in progress from then until it is read whole, whether it fits the
// limit or not; a short line never does.
func TestReadLineReportsLongLines(t *testing.T) {
	in := "short\n" + strings.Repeat("y", 100) + "\n" + strings.Repeat("z", 100) + "\nend\n"
	br := bufio.NewReaderSize(strings.NewReader(in), 16)
	var began, ended int
	reading := func() func() {
		began++
		return func() { ended++ }
	}
	for i, want := range []struct {
		max, began, over int
	}{{10, 0, 0}, {200, 1, 0}, {50, 2, 100}, {10, 2, 0}} {
		_, over, _ := readLine(br, want.max, reading)
		size := 0
		if over != nil {
			size = over.size
		}
		if began != want.began || ended != began || size != want.over {
			t.Fatalf("line %d: reading began %d and ended %d times, oversize %d; want %d, %d, %d", i, began, ended, size, want.began, want.began, want.over)
		}
	}
}
