package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/execgate/execgate/engine"
	"github.com/execgate/execgate/internal/testbash"
	"github.com/execgate/execgate/internal/testbin"
	"github.com/execgate/execgate/internal/testhelp"
)

// These tests drive the real binary over real pipes, as an MCP client does.

// execgateBinary is the execgate binary the protocol tests run (-short
// skips them).
func execgateBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	return testbin.Must(t, testbin.Execgate)
}

// serverEnv is the binary's environment: the patched Bash and a private
// configuration home (never the user's ~/.codex).
func serverEnv(t testing.TB, home string) []string {
	return append(os.Environ(), engine.EnvBash+"="+testbash.Path(t), "EXECGATE_HOME="+home)
}

// serverProc is `execgate server` with raw access to its stdio.
type serverProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *strings.Builder
}

func startBinary(t *testing.T, args ...string) *serverProc {
	t.Helper()
	return startBinaryHome(t, testhelp.PrivateDir(t), args...)
}

// startBinaryHome is startBinary with home as the configuration home.
func startBinaryHome(t *testing.T, home string, args ...string) *serverProc {
	t.Helper()
	cmd := exec.Command(execgateBinary(t), append([]string{"server"}, args...)...)
	cmd.Env = serverEnv(t, home)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &lockedBuilder{b: &stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProc{t: t, cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout), stderr: &stderr}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	return p
}

func (p *serverProc) send(s string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, s); err != nil {
		p.t.Fatalf("writing to server: %v", err)
	}
}

type rpcReply struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (p *serverProc) recv() rpcReply {
	p.t.Helper()
	ch := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		l, err := p.stdout.ReadString('\n')
		if err != nil {
			errc <- err
			return
		}
		ch <- l
	}()
	select {
	case l := <-ch:
		var r rpcReply
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			p.t.Fatalf("stdout line %q is not JSON-RPC: %v", l, err)
		}
		return r
	case err := <-errc:
		p.t.Fatalf("reading stdout: %v (stderr: %s)", err, p.stderr.String())
	case <-time.After(10 * time.Second):
		p.t.Fatal("no reply within 10s")
	}
	return rpcReply{}
}

const initialize = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"pipe-test","version":"0"}}}` + "\n"

func TestBinaryMalformedInput(t *testing.T) {
	p := startBinary(t)
	p.send(initialize)
	if r := p.recv(); r.Error != nil || !strings.Contains(string(r.Result), `"name":"execgate"`) {
		t.Fatalf("initialize: %+v %s", r.Error, r.Result)
	}
	p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n")
	tests := []struct {
		name     string
		line     string
		wantCode int
		wantID   string
	}{
		{"blank line", "\n", -32700, "null"},
		{"non-JSON line", "this is not json\n", -32700, "null"},
		{"oversized line (20 MB)", `{"jsonrpc":"2.0","id":3,"method":"ping","params":{"pad":"` + strings.Repeat("x", 20<<20) + `"}}` + "\n", -32700, "3"},
		{"unknown method", `{"jsonrpc":"2.0","id":4,"method":"no/such/method"}` + "\n", -32601, "4"},
		{"invalid request", `{"jsonrpc":"2.0","id":5}` + "\n", -32600, "5"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.t = t
			p.send(tt.line)
			r := p.recv()
			if r.Error == nil || r.Error.Code != tt.wantCode || string(r.ID) != tt.wantID {
				t.Fatalf("reply %+v id %s, want code %d id %s", r.Error, r.ID, tt.wantCode, tt.wantID)
			}
			id := `"after-` + string(rune('a'+i)) + `"`
			p.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"tools/list"}` + "\n")
			r = p.recv()
			if r.Error != nil || string(r.ID) != id || !strings.Contains(string(r.Result), `"name":"shell"`) {
				t.Fatalf("server not serving after %s: %+v %s", tt.name, r.Error, r.Result)
			}
		})
	}
}

func TestBinaryExitsOnStdinClose(t *testing.T) {
	p := startBinary(t)
	p.send(initialize)
	p.recv()
	start := time.Now()
	p.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after stdin closed: %v (stderr: %s)", err, p.stderr.String())
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("exit took %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server still running 5s after stdin closed")
	}
}

func TestBinaryExitsOnSIGTERM(t *testing.T) {
	p := startBinary(t)
	p.send(initialize)
	p.recv()
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server ignored SIGTERM")
	}
}

func TestBinaryFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"server", "--sandbox", "nope"}, "-sandbox"},
		{[]string{"server", "--max-output", "1x"}, "-max-output"},
		{[]string{"run", "--timeout", "soon", "--", "true"}, "-timeout"},
		{[]string{"run"}, "missing SCRIPT"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			cmd := exec.Command(execgateBinary(t), tt.args...)
			cmd.Env = serverEnv(t, testhelp.PrivateDir(t))
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
				t.Fatalf("err = %v, want exit status 2 (output %s)", err, out)
			}
			if !strings.Contains(string(out), tt.want) {
				t.Errorf("message %q does not name %s", out, tt.want)
			}
		})
	}
}

// The go-sdk client over the binary's real stdio: the handshake, the tool
// list, and a call that runs.
func TestBinaryWithSDKClient(t *testing.T) {
	cmd := exec.Command(execgateBinary(t), "server", "--log-level", "debug")
	cmd.Env = serverEnv(t, testhelp.PrivateDir(t))
	var stderr strings.Builder
	cmd.Stderr = &lockedBuilder{b: &stderr}
	client := mcp.NewClient(&mcp.Implementation{Name: "sdk-test", Version: "0"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-06-18"})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer cs.Close()
	if got := cs.InitializeResult().ServerInfo.Name; got != "execgate" {
		t.Errorf("serverInfo.name = %q", got)
	}
	tools, err := cs.ListTools(ctx, nil)
	if err != nil || len(tools.Tools) != 1 || tools.Tools[0].Name != "shell" {
		t.Fatalf("tools/list: %v %+v", err, tools)
	}
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "shell", Arguments: map[string]any{"command": "touch " + marker + " && echo ok", "workdir": dir, "login": false}})
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError || !strings.Contains(text(res), `"exit_code":0,"output":"ok\n"`) {
		t.Errorf("call: isError %v %s (stderr %s)", res.IsError, text(res), stderr.String())
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the call did not run: %v", err)
	}
}

// An unpatched Bash would silently disable the policy: the binary refuses
// to start with one, naming it and how to build the right one.
func TestBinaryRefusesUnpatchedBash(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	cmd := exec.Command(execgateBinary(t), "run", "--bash", testbash.SystemBash, "--workdir", "/", "--", "touch", marker)
	cmd.Env = serverEnv(t, testhelp.PrivateDir(t))
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("err = %v, want exit status 1 (output %s)", err, out)
	}
	for _, want := range []string{testbash.SystemBash, "does not honour EXEC_WRAPPER", "scripts/build-bash.sh"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output %q does not mention %q", out, want)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the script ran with an unpatched Bash")
	}
}

func TestBinarySandboxStateUpdateReply(t *testing.T) {
	p := startBinary(t)
	p.send(initialize)
	r := p.recv()
	if !strings.Contains(string(r.Result), `"experimental":{"codex/sandbox-state":{"version":"1.0.0"},"codex/sandbox-state-meta":{"version":"1.0.0"}}`) {
		t.Errorf("capabilities: %s", r.Result)
	}
	p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n")
	p.send(`{"jsonrpc":"2.0","id":2,"method":"codex/sandbox-state/update","params":{"sandboxPolicy":{"type":"workspace-write","writable_roots":[],"network_access":false},"codexLinuxSandboxExe":null,"sandboxCwd":"/tmp"}}` + "\n")
	r = p.recv()
	if r.Error != nil || string(r.ID) != "2" || string(r.Result) != "{}" {
		t.Errorf("update reply: id %s result %s error %+v, want {}", r.ID, r.Result, r.Error)
	}
	p.send(`{"jsonrpc":"2.0","id":3,"method":"codex/sandbox-state/update","params":{"sandbox_cwd":"relative/dir"}}` + "\n")
	r = p.recv()
	if r.Error == nil || !strings.Contains(r.Error.Message, "sandbox_cwd") {
		t.Errorf("bad update: %+v", r.Error)
	}
	// A policy execgate cannot use is an invalid-params error naming the
	// field, not {} and read-only calls later.
	for i, params := range []string{
		`{"sandboxPolicy":{"type":"no-such-mode"},"sandboxCwd":"/tmp"}`,
		`{"permissionProfile":{"type":"managed","file_system":{"type":"restricted","entries":[{"path":{"type":"nonsense"},"access":"read"}]},"network":"restricted"}}`,
		`{"sandbox_cwd":"relative/dir"}`,
	} {
		p.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"codex/sandbox-state/update","params":%s}`+"\n", 10+i, params))
		r = p.recv()
		field := []string{"sandboxPolicy", "permissionProfile", "sandbox_cwd"}[i]
		if r.Error == nil || r.Error.Code != -32602 || !strings.Contains(r.Error.Message, field) {
			t.Errorf("update %s: error %+v, want -32602 naming %s", params, r.Error, field)
		}
	}
}

type lockedBuilder struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
