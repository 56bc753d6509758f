package escalate_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/frame"
	"github.com/execgate/execgate/internal/testbash"
	"golang.org/x/sys/unix"
)

// The patched Bash's in-shell client (scripts/bash/execgate.c) against a
// scripted server: the test plays the server's side of the protocol frame
// by frame, so it can answer what no real server would and check that the
// client fails closed, and so it can see exactly what the client sends.

// peer is the server's end of one shell's escalate socket.
type peer struct {
	t   *testing.T
	fd  int
	cmd *exec.Cmd
	out bytes.Buffer
}

// startShell runs script in the patched Bash with its escalate socket of
// type typ (SOCK_SEQPACKET as execgate makes it, SOCK_DGRAM as Codex does)
// on fd 3, and no EXEC_WRAPPER: nothing but the in-shell client can decide.
func startShell(t *testing.T, typ int, script string) *peer {
	t.Helper()
	pair, err := unix.Socketpair(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A shell that never asks fails the test instead of hanging it.
	if err := unix.SetsockoptTimeval(pair[0], unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 20}); err != nil {
		t.Fatal(err)
	}
	child := os.NewFile(uintptr(pair[1]), "child")
	p := &peer{t: t, fd: pair[0]}
	p.cmd = exec.Command(testbash.Path(t), "--norc", "--noprofile", "-c", script)
	p.cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8", escalate.EnvSocket + "=3"}
	p.cmd.ExtraFiles = []*os.File{child}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	child.Close()
	t.Cleanup(func() {
		unix.Close(p.fd)
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

// next accepts the next exec and returns its stream and request.
func (p *peer) next() (int, escalate.Request) {
	p.t.Helper()
	conn, err := escalate.ReceiveHandshake(p.fd)
	if err != nil {
		p.t.Fatalf("handshake: %v (shell output %q)", err, p.out.String())
	}
	payload, fds, err := frame.Read(conn)
	if err != nil || len(fds) != 0 {
		p.t.Fatalf("request: %v, %d fds", err, len(fds))
	}
	var req escalate.Request
	if err := json.Unmarshal(payload, &req); err != nil {
		p.t.Fatalf("request %s: %v", payload, err)
	}
	return conn, req
}

func (p *peer) answer(conn int, payload string, fds ...int) {
	p.t.Helper()
	if err := frame.Write(conn, []byte(payload), fds); err != nil {
		p.t.Fatal(err)
	}
}

// wait returns the shell's exit status and output.
func (p *peer) wait() (int, string) {
	p.t.Helper()
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-done
		p.t.Fatalf("the shell did not end; output %q", p.out.String())
	}
	return p.cmd.ProcessState.ExitCode(), p.out.String()
}

func TestInShellAnswers(t *testing.T) {
	tests := []struct {
		name   string
		answer string
		status int
		output []string // parts of the output, in order
	}{
		{"run", `{"action":"Run"}`, 0, []string{"ran\n", "after 0\n"}},
		{"run with a note", `{"action":"Run","note":"why\nhere"}`, 0, []string{"why\\nhere\n", "ran\n"}},
		{"fields in another order, spaces, unknown fields", ` { "extra" : [1, {"a": null}], "action" : "Run" } `, 0, []string{"ran\n"}},
		{"deny", `{"action":{"Deny":{"reason":"not today"}}}`, 0, []string{"Execution denied: not today\n", "after 1\n"}},
		{"deny without reason", `{"action":{"Deny":{"reason":null}}}`, 0, []string{"Execution denied\n", "after 1\n"}},
		// Fail closed: nothing runs, 126, one line naming the program.
		{"server error", `{"error":"too many execs at once"}`, 0, []string{"bash: line 1: /bin/echo: execgate: execgate server: too many execs at once\n", "after 126\n"}},
		{"unknown action", `{"action":"Maybe"}`, 0, []string{`execgate: malformed answer from the execgate server: {"action":"Maybe"}`, "after 126\n"}},
		{"not JSON", `Run`, 0, []string{"malformed answer", "after 126\n"}},
		{"trailing data", `{"action":"Run"}x`, 0, []string{"malformed answer", "after 126\n"}},
		{"no action", `{}`, 0, []string{"malformed answer", "after 126\n"}},
		{"two actions in Deny", `{"action":{"Deny":{},"Run":{}}}`, 0, []string{"malformed answer", "after 126\n"}},
		{"Deny then Run", `{"action":{"Deny":{"reason":"no"}},"action":"Run"}`, 0, []string{"malformed answer", "after 126\n"}},
		{"Run with a NUL after it", `{"action":"Run\u0000x"}`, 0, []string{"malformed answer", "after 126\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startShell(t, unix.SOCK_SEQPACKET, "/bin/echo ran; echo after $?")
			conn, req := p.next()
			if req.File != "/bin/echo" || strings.Join(req.Argv, " ") != "/bin/echo ran" || req.Workdir == "" || req.Env["PATH"] != "/usr/bin:/bin" {
				t.Errorf("request %+v", req)
			}
			p.answer(conn, tt.answer)
			unix.Close(conn)
			status, out := p.wait()
			checkOutput(t, status, out, tt.status, tt.output)
			if tt.name != "run" && !strings.HasPrefix(tt.name, "run ") && !strings.HasPrefix(tt.name, "fields") && strings.Contains(out, "ran\n") {
				t.Errorf("the program ran without a Run answer: %q", out)
			}
		})
	}
}

// TestInShellLargeRequest: a request larger than the area the shell sets
// aside for it at startup and than a stream's buffer (three 100 KB
// arguments) arrives whole, the part that did not fit before the
// handshake after it, and the program then runs.
func TestInShellLargeRequest(t *testing.T) {
	p := startShell(t, unix.SOCK_SEQPACKET, `x=$(printf '%*s' 100000 ''); /bin/echo "$x" "$x" "$x" | wc -c; echo after $?`)
	// echo and wc start together, in either order.
	var echo escalate.Request
	for range 2 {
		conn, req := p.next()
		if req.File == "/bin/echo" {
			echo = req
		}
		p.answer(conn, `{"action":"Run"}`)
		unix.Close(conn)
	}
	if len(echo.Argv) != 4 || len(echo.Argv[1])+len(echo.Argv[2])+len(echo.Argv[3]) != 300000 || strings.Trim(echo.Argv[3], " ") != "" {
		t.Errorf("request for echo with %d arguments", len(echo.Argv)-1)
	}
	status, out := p.wait()
	checkOutput(t, status, out, 0, []string{"300003\n", "after 0\n"})
}

func checkOutput(t *testing.T, status int, out string, wantStatus int, want []string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("status %d, want %d; output %q", status, wantStatus, out)
	}
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("output %q lacks %q (in order)", out, w)
			return
		}
		rest = rest[i+len(w):]
	}
}

// A server that hangs up, or answers with a descriptor, gets no program run.
func TestInShellBrokenPeer(t *testing.T) {
	t.Run("closed without answer", func(t *testing.T) {
		p := startShell(t, unix.SOCK_SEQPACKET, "/bin/echo ran; echo after $?")
		conn, _ := p.next()
		unix.Close(conn)
		status, out := p.wait()
		checkOutput(t, status, out, 0, []string{"execgate: the execgate server closed the connection without an answer\n", "after 126\n"})
	})
	t.Run("descriptor with the answer", func(t *testing.T) {
		p := startShell(t, unix.SOCK_SEQPACKET, "/bin/echo ran; echo after $?")
		conn, _ := p.next()
		p.answer(conn, `{"action":"Run"}`, 0)
		unix.Close(conn)
		status, out := p.wait()
		checkOutput(t, status, out, 0, []string{"sent file descriptors with its answer", "after 126\n"})
	})
	t.Run("server gone", func(t *testing.T) {
		p := startShell(t, unix.SOCK_SEQPACKET, "read; /bin/echo ran; echo after $?")
		unix.Close(p.fd)
		p.fd = -1
		status, out := p.wait()
		checkOutput(t, status, out, 0, []string{"execgate: cannot reach the execgate server", "after 126\n"})
	})
	t.Run("not a socket", func(t *testing.T) {
		cmd := exec.Command(testbash.Path(t), "--norc", "--noprofile", "-c", "/bin/echo ran; exec /bin/echo again; echo after $?")
		cmd.Env = []string{"PATH=/usr/bin:/bin", escalate.EnvSocket + "=0"}
		out, err := cmd.CombinedOutput()
		if err == nil || cmd.ProcessState.ExitCode() != 126 || strings.Contains(string(out), "ran") ||
			!strings.Contains(string(out), "execgate: CODEX_ESCALATE_SOCKET=0 is not a socket; refusing to run it undecided") {
			t.Errorf("with fd 0 not a socket: %v, output %q; want 126 and nothing run", err, out)
		}
	})
}

// Codex's server makes a datagram socket; the client speaks the same.
func TestInShellDatagramSocket(t *testing.T) {
	p := startShell(t, unix.SOCK_DGRAM, "/bin/echo ran")
	conn, _ := p.next()
	p.answer(conn, `{"action":"Run"}`)
	unix.Close(conn)
	status, out := p.wait()
	checkOutput(t, status, out, 0, []string{"ran\n"})
}

// Escalate: fds 0-2 travel with the SuperExec frame; the shell sees the
// command's status, or its death by a signal; forwarded signals arrive as
// extension frames.
func TestInShellEscalate(t *testing.T) {
	superExec := func(t *testing.T, p *peer, conn int) {
		t.Helper()
		p.answer(conn, `{"action":"Escalate"}`)
		payload, fds, err := frame.Read(conn)
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			for _, fd := range fds {
				unix.Close(fd)
			}
		}()
		if string(payload) != `{"fds":[0,1,2]}` || len(fds) != 3 {
			t.Fatalf("SuperExec %s with %d fds", payload, len(fds))
		}
		// The command writes where the shell's stdout is.
		unix.Write(fds[1], []byte("from the server\n"))
	}
	// How the escalated command ends, as the server reports it (result ""
	// sends none), and what the shell then does.
	for _, tt := range []struct {
		name, script, result string
		status               int
		want                 []string
	}{
		{"status", "/bin/false; echo after $?", `{"exit_code":7}`, 0, []string{"from the server\n", "after 7\n"}},
		// Bash reports a child it saw die of SIGTERM.
		{"killed by a signal", "/bin/false; echo after $?", `{"exit_code":143,"signal":15}`, 0, []string{"Terminated", "after 143\n"}},
		{"exec", "exec /bin/false; echo not reached", `{"exit_code":3}`, 3, []string{"from the server\n"}},
		{"no result", "/bin/false; echo after $?", "", 0, []string{"no exit status from the server for the escalated command", "after 126\n"}},
		{"malformed result", "/bin/false; echo after $?", `{"exit_code":"7"}`, 0, []string{"malformed exit status from the server", "after 126\n"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := startShell(t, unix.SOCK_SEQPACKET, tt.script)
			conn, _ := p.next()
			superExec(t, p, conn)
			if tt.result != "" {
				p.answer(conn, tt.result)
			}
			unix.Close(conn)
			status, out := p.wait()
			checkOutput(t, status, out, tt.status, tt.want)
			if strings.Contains(out, "not reached") {
				t.Errorf("the shell went on after an escalated exec: %q", out)
			}
		})
	}
	t.Run("forwarded signals", func(t *testing.T) {
		p := startShell(t, unix.SOCK_SEQPACKET, "/bin/false; echo after $?")
		conn, _ := p.next()
		superExec(t, p, conn)
		cred, err := unix.GetsockoptUcred(conn, unix.SOL_SOCKET, unix.SO_PEERCRED)
		if err != nil {
			t.Fatal(err)
		}
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGWINCH, syscall.SIGTERM} {
			if err := syscall.Kill(int(cred.Pid), sig); err != nil {
				t.Fatal(err)
			}
			payload, _, err := frame.Read(conn)
			if err != nil {
				t.Fatal(err)
			}
			if want := `{"signal":` + itoa(int(sig)) + `}`; string(payload) != want {
				t.Errorf("after %v: frame %s, want %s", sig, payload, want)
			}
		}
		p.answer(conn, `{"exit_code":0}`)
		unix.Close(conn)
		status, out := p.wait()
		checkOutput(t, status, out, 0, []string{"after 0\n"})
	})
	t.Run("argument not UTF-8", func(t *testing.T) {
		p := startShell(t, unix.SOCK_SEQPACKET, "/bin/false $'\\xff'; echo after $?")
		conn, req := p.next()
		if req.Argv[1] != "\ufffd" {
			t.Errorf("argv %q, want the byte sent as U+FFFD", req.Argv)
		}
		p.answer(conn, `{"action":"Escalate"}`)
		status, out := p.wait()
		unix.Close(conn)
		checkOutput(t, status, out, 0, []string{"is not valid UTF-8", "after 126\n"})
	})
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
