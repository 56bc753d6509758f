package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/execgate/execgate/internal/codexfixture"
	"github.com/execgate/execgate/internal/testhelp"
)

// codexSession is the real binary driven as Codex 0.171 drives it: its
// initialize, then tools/call with the sandbox state in _meta under both
// keys, as captured in testdata/codex-0171.
type codexSession struct {
	p  *serverProc
	id int
}

func startCodex171(t *testing.T) *codexSession {
	t.Helper()
	return startCodex171Home(t, testhelp.PrivateDir(t))
}

// startCodex171Home is startCodex171 with home as the configuration home.
func startCodex171Home(t *testing.T, home string) *codexSession {
	t.Helper()
	var init map[string]json.RawMessage
	if err := json.Unmarshal(codexfixture.File(t, "initialize-and-legacy-update.json"), &init); err != nil {
		t.Fatal(err)
	}
	var v0171 struct {
		Params json.RawMessage `json:"initialize_params"`
	}
	if err := json.Unmarshal(init["0.171.0"], &v0171); err != nil {
		t.Fatal(err)
	}
	p := startBinaryHome(t, home)
	p.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":` + compact(t, v0171.Params) + "}\n")
	if r := p.recv(); r.Error != nil {
		t.Fatalf("initialize: %+v", r.Error)
	}
	p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n")
	return &codexSession{p: p, id: 1}
}

// call runs command in workdir with state as the call's sandbox state.
func (c *codexSession) call(t *testing.T, state json.RawMessage, workdir, command string) shellOutcome {
	t.Helper()
	c.id++
	args, _ := json.Marshal(map[string]any{"command": command, "workdir": workdir, "login": false})
	st := compact(t, state)
	meta := fmt.Sprintf(`{"callId":"call_%d","codex/sandbox-state":%s,"codex/sandbox-state-meta":%s,"progressToken":%d}`, c.id, st, st, c.id)
	c.p.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"shell","arguments":%s,"_meta":%s}}`+"\n", c.id, args, meta))
	r := c.p.recv()
	if r.Error != nil {
		t.Fatalf("tools/call %q: %+v (stderr %s)", command, r.Error, c.p.stderr.String())
	}
	var res struct {
		IsError    bool         `json:"isError"`
		Structured shellOutcome `json:"structuredContent"`
		Content    []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal(r.Result, &res); err != nil {
		t.Fatal(err)
	}
	if res.IsError {
		t.Fatalf("tools/call %q: tool error %+v", command, res.Content)
	}
	return res.Structured
}

// compact puts a captured (indented) JSON value on one line, as the
// line-delimited transport needs.
func compact(t *testing.T, v json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

type shellOutcome struct {
	ExitCode int    `json:"exit_code"`
	Output   string `json:"output"`
	Note     string `json:"note"`
}

// TestCodex171Profiles runs the permission profiles Codex 0.171 sends
// through the real server: each must be enforced as asked, not fall back
// to read-only (which execgate did before it read them).
func TestCodex171Profiles(t *testing.T) {
	base, err := os.MkdirTemp("/var/tmp", "execgate-profile-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	base, _ = filepath.EvalSymlinks(base)
	paths := codexfixture.Paths{Work: base + "/work", Extra: base + "/extra", Home: base + "/home"}
	for _, d := range []string{paths.Work + "/.git", paths.Extra + "/secret", paths.Extra + "/sub", paths.Home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{paths.Extra + "/secret/key", paths.Extra + "/sub/x.env", paths.Work + "/.git/config"} {
		if err := os.WriteFile(f, []byte("SECRET\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	tcp := fmt.Sprintf("(exec 3<>/dev/tcp/127.0.0.1/%d) 2>/dev/null && echo connected || echo no-network", port)

	c := startCodex171(t)
	state := func(name string) json.RawMessage { return codexfixture.State(t, name, paths) }
	w, x := paths.Work, paths.Extra
	for _, tc := range []struct {
		name, state, command string
		want, not            []string // in the output / not in it
	}{
		{"read-only denies a write", "ro", "touch " + w + "/ro; ls " + w,
			[]string{"cannot touch"}, []string{"\nro\n"}},
		{"workspace-write writes the workdir, not .git", "ww",
			"touch " + w + "/ww && echo wrote; echo x >> " + w + "/.git/config || echo git-refused",
			[]string{"wrote", "git-refused"}, nil},
		{"workspace-write writes an --add-dir root", "ww-adddir", "touch " + x + "/added && echo added",
			[]string{"added"}, nil},
		{"without --add-dir the extra directory is read-only", "ww", "touch " + x + "/not-added || echo refused",
			[]string{"refused"}, nil},
		{"a deny inside a writable root is neither readable nor writable", "dp-custom",
			"cat " + x + "/secret/key; echo n > " + x + "/secret/new || echo write-refused; touch " + x + "/free && echo free",
			[]string{"write-refused", "free"}, []string{"SECRET"}},
		{"a deny glob hides its matches", "dp-glob-depth", "cat " + x + "/sub/x.env; echo done",
			[]string{"done"}, []string{"SECRET"}},
		{"network restricted refuses a loopback connection", "ww", tcp, []string{"no-network"}, nil},
		{"network enabled lets a loopback connection through", "ww-net", tcp, []string{"connected"}, nil},
		{"disabled runs unconfined", "dfa",
			"touch " + paths.Home + "/dfa && echo wrote; grep Seccomp: /proc/self/status",
			[]string{"wrote", "Seccomp:\t0"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := c.call(t, state(tc.state), w, tc.command)
			for _, s := range tc.want {
				if !strings.Contains(out.Output, s) {
					t.Errorf("output %q lacks %q", out.Output, s)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(out.Output, s) {
					t.Errorf("output %q has %q", out.Output, s)
				}
			}
			// Without a sandbox there is no kernel gate, and the note
			// says so; otherwise nothing needs saying.
			wantNote := ""
			if tc.state == "dfa" {
				wantNote = "rules were checked for the shell's own program starts only"
			}
			if (wantNote == "") != (out.Note == "") || !strings.Contains(out.Note, wantNote) {
				t.Errorf("note %q, want %q", out.Note, wantNote)
			}
		})
	}
	for _, f := range []string{w + "/ww", x + "/added", x + "/free", paths.Home + "/dfa"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s was not written: %v", f, err)
		}
	}
	for _, f := range []string{w + "/ro", x + "/not-added", x + "/secret/new"} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s was written", f)
		}
	}
	if data, _ := os.ReadFile(w + "/.git/config"); string(data) != "SECRET\n" {
		t.Errorf(".git/config became %q", data)
	}

	// A profile execgate cannot read completely runs read-only, and the
	// call's result says so.
	t.Run("unknown kind fails closed with a note", func(t *testing.T) {
		unknown := strings.Replace(string(state("ww")), `"kind": "slash_tmp"`, `"kind": "future_place"`, 1)
		if unknown == string(state("ww")) {
			t.Fatal("fixture changed: no slash_tmp entry to replace")
		}
		out := c.call(t, json.RawMessage(unknown), w, "touch "+w+"/unknown || echo refused")
		if !strings.Contains(out.Output, "refused") {
			t.Errorf("output %q: the write went through", out.Output)
		}
		for _, s := range []string{"permissionProfile", `"future_place"`, "read-only"} {
			if !strings.Contains(out.Note, s) {
				t.Errorf("note %q lacks %q", out.Note, s)
			}
		}
	})
}
