package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"github.com/execgate/execgate/internal/companion"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/execgate/execgate/engine"
	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/testbash"
	"github.com/execgate/execgate/internal/testhelp"
)

// These tests drive the built binary over real pipes.

// connect starts `execgate server ARGS` and connects the go-sdk client.
func connect(t testing.TB, cmd *exec.Cmd, copts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "engine-binary-test", Version: "0"}, copts)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 5 * time.Second}, &mcp.ClientSessionOptions{ProtocolVersion: testProtocol})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func callShell(t testing.TB, cs *mcp.ClientSession, args map[string]any) engine.ShellOutput {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "shell", Arguments: args})
	if err != nil {
		t.Fatalf("tools/call: %v", err)
	}
	if res.IsError {
		t.Fatalf("tool error: %s", text(res))
	}
	var out engine.ShellOutput
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	var codex struct {
		ExitCode int  `json:"exit_code"`
		TimedOut bool `json:"timed_out"`
	}
	if err := json.Unmarshal([]byte(text(res)), &codex); err != nil || codex.ExitCode != out.ExitCode || codex.TimedOut != out.TimedOut {
		t.Errorf("Codex text %q disagrees with structuredContent (%v)", text(res), err)
	}
	return out
}

func TestBinaryEngine(t *testing.T) {
	out := testhelp.PrivateDir(t)
	home := testhelp.RulesHome(t, testhelp.EngineRules(out))
	ws := t.TempDir()
	cmd := exec.Command(testhelp.Execgate(t), "server")
	cmd.Env = serverEnv(t, home)
	cmd.Dir = ws
	cs := connect(t, cmd, nil)
	r := callShell(t, cs, map[string]any{"command": "touch " + out + "/allowed; touch " + out + "/other; rm " + out + "/keep; echo end", "workdir": ws, "login": false})
	want := []escalate.Action{escalate.Escalate, escalate.Run, escalate.Deny}
	if len(r.Decisions) != 3 {
		t.Fatalf("decisions %+v", r.Decisions)
	}
	for i, d := range r.Decisions {
		if d.Decision != want[i] {
			t.Errorf("decision %d: %+v, want %s", i, d, want[i])
		}
	}
	if !testhelp.Exists(filepath.Join(out, "allowed")) || testhelp.Exists(filepath.Join(out, "other")) {
		t.Errorf("allowed written %v, other written %v", testhelp.Exists(filepath.Join(out, "allowed")), testhelp.Exists(filepath.Join(out, "other")))
	}
	if !strings.Contains(r.Output, "cannot touch") || !strings.Contains(r.Output, "Execution denied: keep it\n") || !strings.HasSuffix(r.Output, "end\n") {
		t.Errorf("output %q", r.Output)
	}
}

// Timeout and client disconnect end every process of a call, escalated
// and setsid'd ones included; the server exits after a disconnect.
func TestBinaryEndsEveryProcess(t *testing.T) {
	home := testhelp.RulesHome(t, `prefix_rule(pattern=["sleep"], decision="allow")`+"\n")
	ws := t.TempDir()
	script := func(marker string) string {
		return fmt.Sprintf("export %s=%s; echo partial; sleep 30 & setsid sleep 31 & /usr/bin/env sleep 32 & sleep 33", testhelp.MarkEnv, marker)
	}
	t.Run("timeout", func(t *testing.T) {
		marker := testhelp.UniqueMarker(t)
		cmd := exec.Command(testhelp.Execgate(t), "server")
		cmd.Env = serverEnv(t, home)
		cs := connect(t, cmd, nil)
		start := time.Now()
		r := callShell(t, cs, map[string]any{"command": script(marker), "workdir": ws, "login": false, "timeout_ms": 1000})
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("result after %v", d)
		}
		if !r.TimedOut || r.ExitCode != engine.ExitTimeout || r.Output != "partial\n" {
			t.Errorf("got %+v", r)
		}
		testhelp.AssertNoneLeft(t, marker)
	})
	t.Run("stdin closed", func(t *testing.T) {
		marker := testhelp.UniqueMarker(t)
		cmd := exec.Command(testhelp.Execgate(t), "server")
		cmd.Env = serverEnv(t, home)
		stdin, stdout := startPiped(t, cmd)
		go bufio.NewReader(stdout).WriteTo(discard{})
		args, _ := json.Marshal(map[string]any{"command": script(marker), "workdir": ws, "login": false, "timeout_ms": 60000})
		for _, line := range []string{
			`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"0"}}}`,
			`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
			`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"shell","arguments":` + string(args) + `}}`,
		} {
			fmt.Fprintln(stdin, line)
		}
		for deadline := time.Now().Add(5 * time.Second); len(testhelp.WithMarker(marker)) < 4; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the call's processes never started: %q", testhelp.WithMarker(marker))
			}
		}
		start := time.Now()
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server exit: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("server still running 5s after stdin closed")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("exit took %v", d)
		}
		testhelp.AssertNoneLeft(t, marker)
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// 50 MB of output: capped with the omission marker, and the server's peak
// RSS stays far below the output size.
func TestBinaryFiftyMegabytes(t *testing.T) {
	cmd := exec.Command(testhelp.Execgate(t), "server")
	cmd.Env = serverEnv(t, testhelp.PrivateDir(t))
	cs := connect(t, cmd, nil)
	ws := t.TempDir()
	r := callShell(t, cs, map[string]any{"command": "echo BEGIN; head -c 52428800 /dev/zero | tr '\\0' x; echo; echo END", "workdir": ws, "login": false, "timeout_ms": 60000})
	if r.ExitCode != 0 || !strings.HasPrefix(r.Output, "BEGIN\nxxx") || !strings.HasSuffix(r.Output, "xxx\nEND\n") || !strings.Contains(r.Output, " bytes omitted ...]") {
		t.Errorf("exit %d, %d bytes of output", r.ExitCode, len(r.Output))
	}
	if len(r.Output) > engine.DefaultOptions().MaxOutput+200 {
		t.Errorf("output of %d bytes exceeds the cap", len(r.Output))
	}
	hwm := procStatusKB(t, cmd.Process.Pid, "VmHWM")
	t.Logf("server peak RSS after 50 MB of output: %d kB", hwm)
	if hwm > 50<<10 {
		t.Errorf("peak RSS %d kB, want under 50 MB", hwm)
	}
}

func procStatusKB(t testing.TB, pid int, field string) int {
	t.Helper()
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, field+":") {
			kb, _ := strconv.Atoi(strings.Fields(l)[1])
			return kb
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// `execgate run` asks on its controlling terminal (y, a, n) and denies
// without one.
func TestBinaryRunPrompts(t *testing.T) {
	out := testhelp.PrivateDir(t)
	tests := []struct {
		name     string
		answer   string // "" : no terminal
		wantCode int
		wantOut  string
		written  bool
	}{
		{name: "y allows once", answer: "y", written: true, wantOut: "done"},
		{name: "a allows always", answer: "a", written: true, wantOut: "done"},
		{name: "n denies", answer: "n", wantCode: 1, wantOut: "Execution denied: user denied execution"},
		{name: "no terminal denies", wantCode: 1, wantOut: "Execution denied: no terminal to ask on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := testhelp.RulesHome(t, testhelp.EngineRules(out))
			target := filepath.Join(out, "prompted")
			os.Remove(target)
			cmd := exec.Command(testhelp.Execgate(t), "run", "--workdir", t.TempDir(), "--", "touch "+target+" && echo done")
			cmd.Env = append(serverEnv(t, home), "HOME=/nonexistent") // no login profile noise
			var stdout strings.Builder
			cmd.Stdout = &stdout
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no controlling terminal
			if tt.answer != "" {
				m, path := openPTY(t)
				slave, err := os.OpenFile(path, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer slave.Close()
				cmd.Stdin = slave
				cmd.SysProcAttr.Setctty = true
				cmd.SysProcAttr.Ctty = 0
				answerPrompt(m, tt.answer+"\n")
			}
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode || !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("exit %d output %q, want %d %q", code, stdout.String(), tt.wantCode, tt.wantOut)
			}
			if testhelp.Exists(target) != tt.written {
				t.Errorf("%s written = %v, want %v", target, testhelp.Exists(target), tt.written)
			}
		})
	}
}

func TestBinaryDoctorReportsTheEngine(t *testing.T) {
	home := testhelp.RulesHome(t, testhelp.EngineRules("/srv"))
	cmd := exec.Command(testhelp.Execgate(t), "doctor")
	cmd.Env = serverEnv(t, home)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	for _, want := range []string{
		"execution engine: ready",
		"patched Bash:       " + testbash.Path(t) + " (found via $EXECGATE_BASH; probe: execs intercepted, even after `unset EXEC_WRAPPER`)",
		"execve wrapper:", "codex-execve-wrapper (symlink to this binary)",
		// As `make build` builds them: the helper beside execgate, paired.
		"escalate reaper:    " + filepath.Join(filepath.Dir(testhelp.Execgate(t)), companion.Sandbox) + " (" + companion.Sandbox + ", built with this binary)",
		"login calls:        the profile runs once per sandbox policy, sandboxed, and login calls start from that snapshot",
		"rules:              3 rules from 1 files", filepath.Join(home, "rules", "test.rules"),
		"requirements:       /etc/codex/requirements.toml (",
		"sandbox (linux):", "landlock:",
		`"EXECGATE_BASH": "` + testbash.Path(t) + `"`, "env = { ", `EXECGATE_BASH = "`, `default_tools_approval_mode = "approve"`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
}

// An unprivileged user gets the same engine: the sandbox (user namespaces
// as non-root), the wrapper, escalation as that user.
func TestBinaryUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch to uid 65534")
	}
	const nobody = 65534
	base := testhelp.PrivateDir(t)
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "execgate")
	data, err := os.ReadFile(testhelp.Execgate(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{}
	for _, name := range []string{"home", "run", "ws", "out"} {
		d := filepath.Join(base, name)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, nobody, nobody); err != nil {
			t.Fatal(err)
		}
		dirs[name] = d
	}
	rules := filepath.Join(dirs["home"], "rules")
	if err := os.Mkdir(rules, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rules, "r.rules"), []byte(testhelp.EngineRules(dirs["out"])), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{rules, filepath.Join(rules, "r.rules")} {
		if err := os.Chown(p, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	out := dirs["out"]
	cmd := exec.Command(bin, "run", "--workdir", dirs["ws"], "--",
		"id -u; touch "+out+"/allowed; touch "+out+"/other; echo ws > "+dirs["ws"]+"/f && cat "+dirs["ws"]+"/f")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dirs["home"], "XDG_RUNTIME_DIR=" + dirs["run"],
		"EXECGATE_HOME=" + dirs["home"], engine.EnvBash + "=" + testbash.Path(t)}
	cmd.Dir = dirs["ws"] // the workspace of `execgate run` is its current directory
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("run as uid %d: %v\n%s%s", nobody, err, got, stderr.String())
	}
	if !strings.HasPrefix(string(got), "65534\n") || !strings.Contains(string(got), "cannot touch") || !strings.Contains(string(got), "ws\n") {
		t.Errorf("output %q", got)
	}
	if !testhelp.Exists(filepath.Join(out, "allowed")) || testhelp.Exists(filepath.Join(out, "other")) {
		t.Errorf("allowed written %v, other written %v", testhelp.Exists(filepath.Join(out, "allowed")), testhelp.Exists(filepath.Join(out, "other")))
	}
	if entries, _ := os.ReadDir(dirs["run"]); len(entries) != 0 {
		t.Errorf("runtime directory left behind: %v", entries)
	}
}

// config.toml in the configuration home sets what flags do not.
func TestBinaryConfigFile(t *testing.T) {
	home := testhelp.PrivateDir(t)
	cfg := "sandbox_mode = \"read-only\"\n[execgate]\ntimeout_ms = 700\n"
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ws := t.TempDir()
	tests := []struct {
		name      string
		args      []string
		wantWrite bool
	}{
		{"config: read-only", nil, false},
		{"flag overrides config", []string{"--sandbox", "workspace-write"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(testhelp.Execgate(t), append([]string{"server"}, tt.args...)...)
			cmd.Env = serverEnv(t, home)
			cmd.Dir = ws
			cs := connect(t, cmd, nil)
			r := callShell(t, cs, map[string]any{"command": "echo x > f && echo wrote", "workdir": ws, "login": false})
			if (r.ExitCode == 0) != tt.wantWrite {
				t.Errorf("write: exit %d %q, want success %v", r.ExitCode, r.Output, tt.wantWrite)
			}
			start := time.Now()
			r = callShell(t, cs, map[string]any{"command": "sleep 5", "workdir": ws, "login": false})
			if d := time.Since(start); !r.TimedOut || d > 1700*time.Millisecond {
				t.Errorf("config timeout_ms = 700: timed out %v after %v", r.TimedOut, d)
			}
		})
	}
}

// The private runtime directory (the wrapper) goes when the server does.
func TestBinaryRemovesRuntimeDir(t *testing.T) {
	for _, how := range []string{"stdin closed", "SIGTERM"} {
		t.Run(how, func(t *testing.T) {
			run := testhelp.PrivateDir(t)
			if err := os.Chmod(run, 0o700); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(testhelp.Execgate(t), "server")
			cmd.Env = append(serverEnv(t, testhelp.PrivateDir(t)), "XDG_RUNTIME_DIR="+run)
			stdin, stdout := startPiped(t, cmd)
			fmt.Fprintln(stdin, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"0"}}}`)
			if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
				t.Fatal(err)
			}
			entries, _ := os.ReadDir(run)
			if len(entries) != 1 || !testhelp.Exists(filepath.Join(run, entries[0].Name(), "codex-execve-wrapper")) {
				t.Fatalf("runtime dir %s holds %v, want one run-* dir with the wrapper", run, entries)
			}
			if how == "SIGTERM" {
				cmd.Process.Signal(syscall.SIGTERM)
			} else {
				stdin.Close()
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("server exit: %v", err)
			}
			if entries, _ := os.ReadDir(run); len(entries) != 0 {
				t.Errorf("left behind in %s: %v", run, entries)
			}
		})
	}
}

// startPiped starts cmd with pipes on its stdin and stdout; the process is
// killed when the test ends.
func startPiped(t testing.TB, cmd *exec.Cmd) (io.WriteCloser, io.ReadCloser) {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return stdin, stdout
}
