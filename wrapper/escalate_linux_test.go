package wrapper_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/frame"
)

func escalateAlways(escalate.Request) reply {
	return reply{resp: escalate.Response{Action: escalate.Escalate}}
}

func escalateWith(res escalate.SuperExecResult) func(escalate.Request) reply {
	return func(escalate.Request) reply {
		return reply{resp: escalate.Response{Action: escalate.Escalate}, result: &res}
	}
}

// TestEscalate runs commands on the server's side with the wrapper's stdio
// and wants the wrapper to end exactly as the command did.
func TestEscalate(t *testing.T) {
	tests := []struct {
		name   string
		decide func(escalate.Request) reply
		p      proc
		stdout string
		stderr string
		status string // describeStatus form
	}{
		{name: "stdio", decide: escalateAlways, p: proc{argv: []string{"/bin/sh", "sh", "-c", "tr a-z A-Z; echo err >&2"}, stdin: "hello\n"}, stdout: "HELLO\n", stderr: "err\n", status: "exit 0"},
		{name: "exit 3", decide: escalateAlways, p: proc{argv: []string{"/bin/sh", "sh", "-c", "exit 3"}}, status: "exit 3"},
		{name: "exit 255", decide: escalateAlways, p: proc{argv: []string{"/bin/sh", "sh", "-c", "exit 255"}}, status: "exit 255"},
		{name: "killed by SIGTERM", decide: escalateAlways, p: proc{argv: []string{"/bin/sh", "sh", "-c", "kill -TERM $$"}}, status: "signal terminated"},
		{name: "killed by SIGKILL", decide: escalateAlways, p: proc{argv: []string{"/bin/sh", "sh", "-c", "kill -KILL $$"}}, status: "signal killed"},
		// Signals the Go runtime would ignore or turn into a goroutine dump
		// if the wrapper just raised them.
		{name: "reported SIGUSR1", decide: escalateWith(escalate.SuperExecResult{ExitCode: 138, Signal: 10}), p: proc{argv: []string{"/bin/true", "true"}}, status: "signal user defined signal 1"},
		{name: "reported SIGQUIT", decide: escalateWith(escalate.SuperExecResult{ExitCode: 131, Signal: 3}), p: proc{argv: []string{"/bin/true", "true"}}, status: "signal quit"},
		{name: "reported SIGPIPE", decide: escalateWith(escalate.SuperExecResult{ExitCode: 141, Signal: 13}), p: proc{argv: []string{"/bin/true", "true"}}, status: "signal broken pipe"},
		// A signal that cannot kill: the shell's 128+N.
		{name: "reported SIGWINCH", decide: escalateWith(escalate.SuperExecResult{ExitCode: 156, Signal: 28}), p: proc{argv: []string{"/bin/true", "true"}}, status: "exit 156"},
		// A Codex server reports only exit_code.
		{name: "codex server status", decide: escalateWith(escalate.SuperExecResult{ExitCode: 130}), p: proc{argv: []string{"/bin/true", "true"}}, status: "exit 130"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, tt.decide)
			got := tt.p.run(t, s, true)
			if got.stdout != tt.stdout || got.stderr != tt.stderr || describeStatus(got.status) != tt.status {
				t.Errorf("got %s, want status=%s stdout=%q stderr=%q", got, tt.status, tt.stdout, tt.stderr)
			}
			supers := s.superExecs()
			if len(supers) != 1 || !reflect.DeepEqual(supers[0].fds, []int{0, 1, 2}) || supers[0].n != 3 {
				t.Errorf("server got SuperExec %+v, want fds [0 1 2] with 3 descriptors", supers)
			}
			if errs := s.errors(); len(errs) > 0 {
				t.Errorf("server errors: %v", errs)
			}
		})
	}
}

// TestEscalateClosedStdin: the Go runtime opens /dev/null on a closed 0, 1
// or 2 before the wrapper runs, so the command reads end of file.
func TestEscalateClosedStdin(t *testing.T) {
	s := newServer(t, escalateAlways)
	p := proc{argv: []string{"/bin/sh", "sh", "-c", "if read x; then echo read; else echo closed; fi 2>/dev/null"}}
	cmd := p.command(s, true)
	// Bash's `cmd <&-` starts the wrapper with descriptor 0 closed.
	cmd.Args = append([]string{"/bin/sh", "-c", `exec "$@" <&-`, "sh"}, cmd.Args...)
	cmd.Path = "/bin/sh"
	out, err := cmd.Output()
	if err != nil || string(out) != "closed\n" {
		t.Errorf("got %q, %v; want \"closed\\n\"", out, err)
	}
	if supers := s.superExecs(); len(supers) != 1 || !reflect.DeepEqual(supers[0].fds, []int{0, 1, 2}) || supers[0].n != 3 {
		t.Errorf("server got SuperExec %+v, want fds [0 1 2]", supers)
	}
}

// TestEscalateForwardsSignals delivers signals sent to the wrapper to the
// escalated command, which runs in another process group.
func TestEscalateForwardsSignals(t *testing.T) {
	tests := []struct {
		sig    syscall.Signal
		status string
	}{
		{syscall.SIGINT, "exit 7"},
		{syscall.SIGTERM, "exit 7"},
		{syscall.SIGHUP, "exit 7"},
		{syscall.SIGQUIT, "exit 7"},
		{syscall.SIGWINCH, "exit 7"},
	}
	for _, tt := range tests {
		t.Run(tt.sig.String(), func(t *testing.T) {
			s := newServer(t, escalateAlways)
			name := strings.TrimPrefix(unixSignalName(tt.sig), "SIG")
			script := "trap 'echo got " + name + "; exit 7' " + name + "; echo ready; while :; do sleep 0.02; done"
			cmd := proc{argv: []string{"/bin/sh", "sh", "-c", script}}.command(s, true)
			lines := startReady(t, cmd)
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			if !lines.Scan() || lines.Text() != "got "+name {
				t.Errorf("escalated command printed %q, want %q", lines.Text(), "got "+name)
			}
			cmd.Wait()
			if got := describeStatus(cmd.ProcessState.Sys().(syscall.WaitStatus)); got != tt.status {
				t.Errorf("wrapper ended with %s, want %s", got, tt.status)
			}
		})
	}
}

func unixSignalName(sig syscall.Signal) string {
	return map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM", syscall.SIGHUP: "SIGHUP", syscall.SIGQUIT: "SIGQUIT", syscall.SIGWINCH: "SIGWINCH"}[sig]
}

// TestEscalateSignalDeathSeenByBash: a parent Bash sees the escalated
// command's death by signal, as it reports it for a local command.
func TestEscalateSignalDeathSeenByBash(t *testing.T) {
	s := newServer(t, escalateAlways)
	cmd := proc{argv: []string{"/bin/sh", "sh", "-c", "kill -TERM $$"}}.command(s, true)
	cmd.Args = append([]string{"/bin/bash", "-c", `"$@"; echo "status $?"`, "bash"}, cmd.Args...)
	cmd.Path = "/bin/bash"
	out, err := cmd.Output()
	if err != nil || string(out) != "status 143\n" {
		t.Errorf("got %q, %v; want \"status 143\\n\"", out, err)
	}
}

// TestEscalateRefusesLossyRequest: an argument that is not valid UTF-8 would
// reach the server altered, so the wrapper refuses before handing over stdio.
func TestEscalateRefusesLossyRequest(t *testing.T) {
	tests := []struct {
		argv []string
		what string
	}{
		{[]string{"/bin/echo", "echo", "caf\xe9"}, `argument 1 "caf\xe9"`},
		{[]string{"/bin/echo\xff", "echo"}, `the program path "/bin/echo\xff"`},
	}
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			s := newServer(t, escalateAlways)
			got := proc{argv: tt.argv}.run(t, s, true)
			if got.status.ExitStatus() != 126 || got.stdout != "" || !strings.Contains(got.stderr, tt.what) || strings.Count(got.stderr, "\n") != 1 {
				t.Errorf("got %s, want exit 126 and one line naming %s", got, tt.what)
			}
			time.Sleep(20 * time.Millisecond) // let the server notice the closed stream
			if supers := s.superExecs(); len(supers) != 0 {
				t.Errorf("server got SuperExec %+v after a lossy request", supers)
			}
		})
	}
}

// TestFailClosed: whatever goes wrong with the server or the socket, the
// wrapper prints one line, exits 126 and runs nothing.
func TestFailClosed(t *testing.T) {
	regular, err := os.CreateTemp(t.TempDir(), "not-a-socket")
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()
	raw := func(b []byte) func(escalate.Request) reply {
		return func(escalate.Request) reply { return reply{raw: b} }
	}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()

	tests := []struct {
		name    string
		decide  func(escalate.Request) reply
		p       proc
		dead    bool   // the server is gone before the wrapper starts
		message string // part of the expected line
	}{
		{name: "no socket variable", p: proc{noSock: true}, message: "CODEX_ESCALATE_SOCKET is not set"},
		{name: "socket variable not a number", p: proc{sockEnv: "three"}, message: `CODEX_ESCALATE_SOCKET="three" is not a file descriptor number`},
		{name: "negative descriptor", p: proc{sockEnv: "-1"}, message: "not a file descriptor number"},
		{name: "descriptor not open", p: proc{sockEnv: "99"}, message: "bad file descriptor"},
		{name: "descriptor not a socket", p: proc{sockEnv: "3", extra: []*os.File{regular}}, message: "socket operation on non-socket"},
		{name: "dead server", dead: true, message: "connection refused"},
		{name: "server closes without answering", decide: raw([]byte{}), message: "connection closed by peer"},
		{name: "garbage answer", decide: raw([]byte("\x05\x00\x00\x00hello")), message: "escalate response"},
		{name: "unknown action", decide: raw(frameBytes(`{"action":"Explode"}`)), message: `unknown action "Explode"`},
		{name: "oversized frame", decide: raw([]byte{0xff, 0xff, 0xff, 0xff, '{'}), message: fmt.Sprintf("over the %d-byte limit", frame.MaxPayload)},
		{name: "closed inside a frame", decide: raw(frameBytes(`{"action":"Run"}`)[:10]), message: "connection closed inside a 16-byte frame"},
		{name: "closed inside a header", decide: raw([]byte{16, 0}), message: "connection closed inside a frame header"},
		{name: "descriptors with the answer", decide: func(escalate.Request) reply {
			return reply{resp: escalate.Response{Action: escalate.Run}, fds: []int{int(devNull.Fd())}}
		}, message: "server sent 1 file descriptors with its decision"},
		{name: "no exit status after escalate", decide: func(escalate.Request) reply {
			return reply{resp: escalate.Response{Action: escalate.Escalate}, rawResult: []byte{}}
		}, message: "no exit status from the server"},
		{name: "garbage exit status", decide: func(escalate.Request) reply {
			return reply{resp: escalate.Response{Action: escalate.Escalate}, rawResult: frameBytes(`{"code":1}`)}
		}, message: "malformed exit status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "ran")
			decide := tt.decide
			if decide == nil {
				decide = runAlways
			}
			s := newServer(t, decide)
			if tt.dead {
				s.kill()
			}
			p := tt.p
			p.argv = []string{"/usr/bin/touch", "touch", marker}
			got := p.run(t, s, true)
			if got.status.ExitStatus() != 126 || got.stdout != "" ||
				!strings.HasPrefix(got.stderr, "execgate-execve-wrapper: ") || strings.Count(got.stderr, "\n") != 1 ||
				!strings.Contains(got.stderr, tt.message) {
				t.Errorf("got %s, want exit 126 and one line mentioning %q", got, tt.message)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Error("the program ran")
			}
		})
	}
}

// frameBytes encodes payload as one frame's bytes.
func frameBytes(payload string) []byte {
	n := len(payload)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)}, payload...)
}

// TestUsage: the wrapper started by hand without a command fails closed.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"/bin/true"}} {
		cmd := exec.Command(wrapperPath, args...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 126 || !strings.HasPrefix(string(out), "execgate-execve-wrapper: usage:") {
			t.Errorf("wrapper %q: got %q, %v; want exit 126 and a usage line", args, out, err)
		}
	}
}
