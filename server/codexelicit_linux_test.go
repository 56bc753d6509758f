package server

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/execgate/execgate/internal/testhelp"
)

// readMessage reads the next line the server writes, request or reply.
func (p *serverProc) readMessage() map[string]json.RawMessage {
	p.t.Helper()
	line := make(chan string, 1)
	go func() {
		l, _ := p.stdout.ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			p.t.Fatalf("stdout line %q: %v (stderr %s)", l, err, p.stderr.String())
		}
		return m
	case <-time.After(20 * time.Second):
		p.t.Fatalf("nothing from the server within 20s (stderr %s)", p.stderr.String())
	}
	return nil
}

// TestCodexElicitationAnswers answers execgate's prompt for a `prompt`
// rule with the exact bytes Codex sends: an approval from its TUI is an
// accept with empty content (0.97) or without content, and must run the
// command once; `codex exec` declines (0.171) or cancels (0.97) at once,
// which must be reported as the client's refusal to ask, with the way to
// run the command without a prompt.
func TestCodexElicitationAnswers(t *testing.T) {
	home := testhelp.PrivateDir(t)
	if err := os.MkdirAll(filepath.Join(home, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	rules := `prefix_rule(pattern=["touch"], decision="prompt", justification="e2e prompt test")` + "\n"
	if err := os.WriteFile(filepath.Join(home, "rules", "e2e.rules"), []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	c := startCodex171Home(t, home)
	dir := t.TempDir()
	for i, tc := range []struct {
		name   string
		answer string // the result object, as Codex sends it
		delay  time.Duration
		ran    bool
		reason []string
	}{
		{"TUI approval, empty content", `{"action":"accept","content":{}}`, 0, true, []string{"user approved: allow once"}},
		{"TUI approval, no content", `{"action":"accept"}`, 0, true, []string{"user approved: allow once"}},
		{"TUI approval of the single choice", `{"action":"accept","content":{"decision":"allow_once"}}`, 0, true, []string{"user approved: allow once"}},
		{"codex exec 0.171 declines", `{"action":"decline"}`, 0, false,
			[]string{"the client declined to ask the user", "e2e.rules:1:12 requires approval: change its decision to \"allow\""}},
		{"codex exec 0.97 cancels", `{"action":"cancel"}`, 0, false, []string{"the client declined to ask the user (it cancelled"}},
		{"a person declines", `{"action":"decline"}`, humanDelay + 200*time.Millisecond, false, []string{"user declined execution"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, fmt.Sprint("f", i))
			c.id++
			args, _ := json.Marshal(map[string]any{"command": "touch " + file, "workdir": dir, "login": false})
			c.p.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"shell","arguments":%s}}`+"\n", c.id, args))
			req := c.p.readMessage()
			var method string
			json.Unmarshal(req["method"], &method)
			if method != "elicitation/create" {
				t.Fatalf("expected elicitation/create, got %v", req)
			}
			var params struct {
				Mode   string                     `json:"mode"`
				Schema map[string]json.RawMessage `json:"requestedSchema"`
			}
			if err := json.Unmarshal(req["params"], &params); err != nil {
				t.Fatal(err)
			}
			// One optional field: Codex 0.171's TUI cannot submit an
			// empty optional text field, and 0.97's sends {}.
			if _, ok := params.Schema["required"]; ok || params.Mode != "form" || !strings.Contains(string(params.Schema["properties"]), `"enumNames"`) ||
				strings.Contains(string(params.Schema["properties"]), `"reason"`) {
				t.Errorf("elicitation params %s", req["params"])
			}
			time.Sleep(tc.delay)
			c.p.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":%s}`+"\n", req["id"], tc.answer))
			reply := c.p.readMessage()
			var res struct {
				Structured struct {
					Output    string `json:"output"`
					Decisions []struct {
						Decision string `json:"decision"`
						Reason   string `json:"reason"`
					} `json:"decisions"`
				} `json:"structuredContent"`
			}
			if err := json.Unmarshal(reply["result"], &res); err != nil || len(res.Structured.Decisions) != 1 {
				t.Fatalf("reply %v: %v", reply, err)
			}
			d := res.Structured.Decisions[0]
			_, statErr := os.Stat(file)
			if ran := statErr == nil; ran != tc.ran {
				t.Errorf("ran = %v, want %v (decision %+v, output %q)", ran, tc.ran, d, res.Structured.Output)
			}
			for _, s := range tc.reason {
				if !strings.Contains(d.Reason, s) {
					t.Errorf("reason %q lacks %q", d.Reason, s)
				}
			}
		})
	}
}
