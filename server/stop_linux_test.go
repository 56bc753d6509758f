package server

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/execgate/execgate/internal/testhelp"
)

// SIGTERM or SIGINT while a call runs a program and another waits for the
// user's approval: both calls are answered with an error within a second,
// their processes are gone, and the server exits 0.
func TestBinaryStopsCallsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			marker := testhelp.UniqueMarker(t)
			home := testhelp.RulesHome(t, `prefix_rule(pattern=["touch"], decision="prompt", justification="test")`+"\n")
			p := startBinaryHome(t, home)
			p.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"elicitation":{}},"clientInfo":{"name":"stop-test","version":"0"}}}` + "\n")
			if r := p.recv(); r.Error != nil {
				t.Fatalf("initialize: %+v", r.Error)
			}
			p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n")
			ws := t.TempDir()
			call := func(id, script string) {
				args, _ := json.Marshal(map[string]any{"command": script, "workdir": ws, "login": false, "timeout_ms": 60000})
				p.send(`{"jsonrpc":"2.0","id":"` + id + `","method":"tools/call","params":{"name":"shell","arguments":` + string(args) + `}}` + "\n")
			}
			call("sleeper", "export "+testhelp.MarkEnv+"="+marker+"; echo started; sleep 30; echo not-reached")
			call("asker", "touch "+ws+"/approved")

			// The prompt reaches the client (and is never answered); then
			// the sleep is surely running too.
			lines := make(chan map[string]json.RawMessage, 8)
			go func() {
				for {
					l, err := p.stdout.ReadString('\n')
					if err != nil {
						close(lines)
						return
					}
					var m map[string]json.RawMessage
					json.Unmarshal([]byte(l), &m)
					lines <- m
				}
			}()
			select {
			case m := <-lines:
				if string(m["method"]) != `"elicitation/create"` {
					t.Fatalf("first message %v, want the prompt", m)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("no prompt within 20s")
			}
			// The sleep itself, not its shell (whose command line holds the
			// marker too, before it has printed "started").
			sleeping := func() bool {
				for _, p := range testhelp.WithMarker(marker) {
					if strings.Contains(p, ": sleep 30") {
						return true
					}
				}
				return false
			}
			for deadline := time.Now().Add(10 * time.Second); !sleeping(); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the sleep did not start")
				}
			}

			start := time.Now()
			p.cmd.Process.Signal(sig)
			answered := map[string]string{}
			for len(answered) < 2 {
				select {
				case m, ok := <-lines:
					if !ok {
						t.Fatalf("stdout closed with answers to %v only (stderr: %s)", answered, p.stderr.String())
					}
					if m["method"] != nil {
						continue // e.g. the cancellation of the prompt
					}
					var res struct {
						IsError bool `json:"isError"`
						Content []struct{ Text string }
					}
					json.Unmarshal(m["result"], &res)
					if !res.IsError && m["error"] == nil {
						t.Errorf("call %s answered without an error: %s", m["id"], m["result"])
					}
					text := string(m["error"])
					for _, c := range res.Content {
						text += c.Text
					}
					answered[string(m["id"])] = text
				case <-time.After(2 * time.Second):
					t.Fatalf("after %s, answers to %v only", sig, answered)
				}
			}
			if a := answered[`"sleeper"`]; !strings.Contains(a, "execgate is stopping") || !strings.Contains(a, "started") || strings.Contains(a, "not-reached") {
				t.Errorf("the sleeping call's answer: %s", a)
			}
			exited := make(chan error, 1)
			go func() { exited <- p.cmd.Wait() }()
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("exit: %v", err)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("server still running 2s after the signal")
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("stopping took %v, want at most 1s", d)
			}
			testhelp.AssertNoneLeft(t, marker)
		})
	}
}
