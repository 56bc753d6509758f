package security

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/execgate/execgate/internal/testbash"
)

// The wire protocol works both ways: execgate's patched Bash, whose
// in-shell client asks the server itself, under Codex's own server
// (codex-exec-mcp-server 0.97.0 from npm @openai/codex-shell-tool-mcp,
// whose escalate socket is a datagram socket where execgate's is a
// seqpacket one), and Codex's patched Bash and execve wrapper under
// execgate's server. scripts/sidebyside.sh keeps the package's files in
// build/original/0.97.0; the test fetches them there with npm when they
// are missing, and skips when it cannot.

const codexPeerVersion = "0.97.0"

// codexPeer returns the directory holding Codex's codex-exec-mcp-server.
func codexPeer(t *testing.T) string {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skip("Codex's server is fetched for x86_64 only")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "build", "original", codexPeerVersion)
	server := filepath.Join(dir, "codex-exec-mcp-server")
	if _, err := os.Stat(server); err == nil {
		return dir
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("Codex's server is not in build/original and npm is not installed")
	}
	tmp := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	pack := exec.CommandContext(ctx, npm, "pack", "--silent", "--fetch-timeout=60000", "--fetch-retries=1", "@openai/codex-shell-tool-mcp@"+codexPeerVersion)
	pack.Dir = tmp
	out, err := pack.Output()
	if err != nil {
		t.Skipf("npm pack @openai/codex-shell-tool-mcp@%s: %v", codexPeerVersion, err)
	}
	tgz := filepath.Join(tmp, strings.TrimSpace(lastLine(string(out))))
	member := "package/vendor/x86_64-unknown-linux-musl/"
	if out, err := exec.Command("tar", "-xzf", tgz, "-C", tmp, member+"codex-exec-mcp-server", member+"codex-execve-wrapper", member+"bash").CombinedOutput(); err != nil {
		t.Fatalf("unpacking %s: %v\n%s", tgz, err, out)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bash", "codex-execve-wrapper", "codex-exec-mcp-server"} { // the server last: its presence means done
		if out, err := exec.Command("cp", "-a", filepath.Join(tmp, member, name), dir).CombinedOutput(); err != nil {
			t.Fatalf("copying %s: %v\n%s", name, err, out)
		}
	}
	return dir
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestPatchedBashUnderCodexServer(t *testing.T) {
	dir := codexPeer(t)
	bash := testbash.Path(t)
	home := t.TempDir()
	ws := t.TempDir()
	made := filepath.Join(ws, "made")
	if err := os.MkdirAll(filepath.Join(home, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	rules := `prefix_rule(pattern=["touch"], decision="forbidden", justification="no touching")
prefix_rule(pattern=["expr"], decision="allow")
`
	if err := os.WriteFile(filepath.Join(home, "rules", "default.rules"), []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(dir, "codex-exec-mcp-server"), "--bash", bash, "--execve", filepath.Join(dir, "codex-execve-wrapper"))
	cmd.Dir = ws
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + home, "CODEX_HOME=" + home, "LANG=C.UTF-8"}
	c := startRPC(t, cmd)
	// Raw JSON-RPC at the protocol version Codex 0.97 speaks. No sandbox:
	// the protocol is under test here, not Codex's sandbox (which needs
	// Codex's own codex-linux-sandbox).
	c.call("initialize", `{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"execgate-codex-peer-test","version":"0"}}`)
	c.notify("notifications/initialized")
	c.call("codex/sandbox-state/update", `{"sandboxPolicy":{"type":"danger-full-access"},"sandboxCwd":`+jsonString(ws)+`}`)
	// Codex's server reads stdout and stderr apart: each want is a part of
	// the output, not the whole.
	tests := []struct {
		name, command string
		want          []string
	}{
		// Run: the program starts in place.
		{"run", "/bin/echo hi; exec 3>&2; /bin/echo still", []string{"hi\nstill\n"}},
		// Escalate: stdio handed over, the status comes back.
		{"escalate", "expr 20 + 22; echo $?", []string{"42\n0\n"}},
		{"escalated status", "expr 0 + 0; echo $?", []string{"0\n1\n"}},
		// Deny, with the message the in-shell client prints.
		{"deny", "touch " + shq(made) + "; echo $?", []string{"1\n", "Execution denied: Execution forbidden by policy\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, _ := json.Marshal(map[string]any{"command": tt.command, "workdir": ws, "login": false, "timeout_ms": 20000})
			res := c.call("tools/call", `{"name":"shell","arguments":`+string(args)+`}`)
			var r struct {
				Content []struct {
					Text string `json:"text"`
				} `json:"content"`
			}
			var out struct {
				Output string `json:"output"`
			}
			if err := json.Unmarshal(res, &r); err != nil || len(r.Content) == 0 || json.Unmarshal([]byte(r.Content[0].Text), &out) != nil {
				t.Fatalf("%q: result %s", tt.command, res)
			}
			for _, want := range tt.want {
				if !strings.Contains(out.Output, want) {
					t.Errorf("%q under Codex's server: output %q lacks %q\nstderr:\n%s", tt.command, out.Output, want, c.stderr)
				}
			}
		})
	}
	if _, err := os.Stat(made); err == nil {
		t.Error("the forbidden touch ran under Codex's server")
	}
}

// rpc is a minimal JSON-RPC client over a server's stdio, one message per
// line: the go-sdk client opens with a request Codex 0.97's server does not
// know.
type rpc struct {
	t      *testing.T
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *syncBuffer
	next   int
}

func startRPC(t *testing.T, cmd *exec.Cmd) *rpc {
	t.Helper()
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &rpc{t: t, in: in, out: bufio.NewReader(out), stderr: &syncBuffer{}}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	t.Cleanup(func() {
		in.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return c
}

func (c *rpc) notify(method string) {
	c.t.Helper()
	if _, err := io.WriteString(c.in, `{"jsonrpc":"2.0","method":"`+method+`"}`+"\n"); err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
}

// call sends a request and returns its result, skipping anything else.
func (c *rpc) call(method, params string) json.RawMessage {
	c.t.Helper()
	c.next++
	id := strconv.Itoa(c.next)
	if _, err := io.WriteString(c.in, `{"jsonrpc":"2.0","id":`+id+`,"method":"`+method+`","params":`+params+"}\n"); err != nil {
		c.t.Fatalf("%s: %v\nstderr:\n%s", method, err, c.stderr)
	}
	type reply struct {
		line []byte
		err  error
	}
	for {
		got := make(chan reply, 1)
		go func() {
			l, err := c.out.ReadBytes('\n')
			got <- reply{l, err}
		}()
		var r reply
		select {
		case r = <-got:
		case <-time.After(60 * time.Second):
			c.t.Fatalf("%s: no answer within 60s\nstderr:\n%s", method, c.stderr)
		}
		if r.err != nil {
			c.t.Fatalf("%s: %v\nstderr:\n%s", method, r.err, c.stderr)
		}
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if json.Unmarshal(r.line, &m) != nil || m.Method != "" || string(m.ID) != id {
			continue
		}
		if m.Error != nil {
			c.t.Fatalf("%s: error %s\nstderr:\n%s", method, m.Error, c.stderr)
		}
		return m.Result
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// The other way round: Codex's own patched Bash and execve wrapper under
// execgate's server (with its sandbox), as a Codex user switching servers
// would run them.
func TestCodexBashUnderExecgateServer(t *testing.T) {
	dir := codexPeer(t)
	codexBash := filepath.Join(dir, "bash", "debian-12", "bash")
	if _, err := os.Stat(codexBash); err != nil {
		t.Skipf("Codex's patched Bash for Debian 12 is not in %s (fetched by scripts/sidebyside.sh)", dir)
	}
	if os.Geteuid() != 0 {
		t.Skip("runs as root only: the build directory need not be readable by others")
	}
	w := start(t, user{name: "root"}, setup{
		Rules: `prefix_rule(pattern=["touch"], decision="forbidden", justification="no touching")` + "\n" +
			`prefix_rule(pattern=["expr"], decision="allow")` + "\n",
		Args: []string{"--bash", codexBash, "--execve", filepath.Join(dir, "codex-execve-wrapper")},
	})
	made := filepath.Join(w.WS, "made")
	for _, tt := range []struct{ command, want string }{
		{"/bin/echo hi", "hi\n"},
		{"expr 20 + 22; echo $?", "42\n0\n"},
		{"touch " + shq(made) + "; echo $?", "1\n"},
	} {
		res := w.shell(t, tt.command)
		if !strings.HasSuffix(res.Output, tt.want) || len(res.Decisions) == 0 {
			t.Errorf("%q with Codex's Bash and wrapper: output %q, want it to end in %q; decisions %+v", tt.command, res.Output, tt.want, res.Decisions)
		}
	}
	if _, err := os.Stat(made); err == nil {
		t.Error("the forbidden touch ran with Codex's Bash")
	}
}
