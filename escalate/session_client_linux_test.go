package escalate

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/execgate/execgate/internal/frame"
	"golang.org/x/sys/unix"

	"github.com/execgate/execgate/internal/testhelp"
)

// This file is the test's side of the protocol: a session under test and a
// client that speaks to it exactly as a wrapper does, through Dial,
// AppendRequest, frame.Write and frame.Read.

// logBuffer collects a session's log lines for assertions.
type logBuffer struct{ testhelp.LogBuffer }

// waitFor polls the log until it contains want.
func (l *logBuffer) waitFor(t testing.TB, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(l.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("log never mentioned %q; log:\n%s", want, l.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type testSession struct {
	s      *Session
	child  int // the shell's end, as a wrapper would inherit it
	logs   *logBuffer
	cancel context.CancelFunc
	done   chan error
	// helper is the server process when it is not this one (helperServer);
	// helperKilled says a test killed it on purpose.
	helper       *os.Process
	helperKilled bool
}

// startSession serves d until the test ends (or stop is called).
func startSession(t testing.TB, d Decider, opts Options) *testSession {
	t.Helper()
	logs := &logBuffer{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := NewSession(d, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testSession{s: s, child: int(s.ChildFile().Fd()), logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		ts.stop(t)
		s.CloseChild()
		if t.Failed() {
			t.Logf("session log:\n%s", logs.String())
		}
	})
	return ts
}

// stop cancels the session and waits for Serve to return.
func (ts *testSession) stop(t testing.TB) {
	t.Helper()
	ts.cancel()
	select {
	case err, ok := <-ts.done:
		if ok && err != nil {
			t.Errorf("Serve: %v", err)
		}
		if ok {
			close(ts.done)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10s of cancel")
	}
}

// ask performs the handshake and sends req; it returns the stream and the
// answer.
func (ts *testSession) ask(t testing.TB, req Request) (int, Response) {
	t.Helper()
	fd, err := Dial(ts.child)
	if err != nil {
		t.Fatal(err)
	}
	if err := frame.Write(fd, AppendRequest(nil, &req), nil); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	payload, _, err := frame.Read(fd)
	if err != nil {
		unix.Close(fd)
		t.Fatalf("reading the answer to %v: %v", req.Argv, err)
	}
	resp, err := ParseResponse(payload)
	if err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	return fd, resp
}

// decide asks and closes the stream: for Run and Deny answers.
func (ts *testSession) decide(t testing.TB, req Request) Response {
	t.Helper()
	fd, resp := ts.ask(t, req)
	unix.Close(fd)
	return resp
}

// running is an escalated command seen from the client.
type running struct {
	t        testing.TB
	fd       int
	stdinW   *os.File
	out, err chan string
	line     chan string // stdout's first line, as soon as it is printed
	inodes   [3]uint64   // of the stdin, stdout and stderr pipes
}

// escalate asks for req, expects Escalate, and passes three fresh pipes as
// the command's stdio. stdin is written and closed in the background.
func (ts *testSession) escalate(t testing.TB, req Request, stdin string) *running {
	t.Helper()
	fd, resp := ts.ask(t, req)
	if resp.Action != Escalate {
		unix.Close(fd)
		t.Fatalf("answer to %v = %+v, want Escalate", req.Argv, resp)
	}
	return superExec(t, fd, stdin)
}

func superExec(t testing.TB, fd int, stdin string) *running {
	t.Helper()
	var pipes [3][2]*os.File
	var inodes [3]uint64
	for i := range pipes {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		pipes[i] = [2]*os.File{r, w}
		inodes[i] = inodeOf(t, r)
	}
	theirs := []int{int(pipes[0][0].Fd()), int(pipes[1][1].Fd()), int(pipes[2][1].Fd())}
	if err := frame.Write(fd, []byte(`{"fds":[0,1,2]}`), theirs); err != nil {
		t.Fatal(err)
	}
	pipes[0][0].Close()
	pipes[1][1].Close()
	pipes[2][1].Close()
	r := &running{t: t, fd: fd, stdinW: pipes[0][1], out: make(chan string, 1), err: make(chan string, 1), line: make(chan string, 1), inodes: inodes}
	go func() {
		io.WriteString(r.stdinW, stdin)
		r.stdinW.Close()
	}()
	for i, ch := range []chan string{r.out, r.err} {
		f := pipes[i+1][0]
		go func() {
			br := bufio.NewReader(f)
			first, _ := br.ReadString('\n')
			if ch == r.out {
				r.line <- first
			}
			rest, _ := io.ReadAll(br)
			f.Close()
			ch <- first + string(rest)
		}()
	}
	return r
}

func (r *running) forward(sig unix.Signal) {
	r.t.Helper()
	b, _ := json.Marshal(Forward{Signal: int(sig)})
	if err := frame.Write(r.fd, b, nil); err != nil {
		r.t.Fatal(err)
	}
}

// wait returns the relayed result and everything the command printed.
func (r *running) wait() (SuperExecResult, string, string) {
	r.t.Helper()
	defer unix.Close(r.fd)
	payload, _, err := frame.Read(r.fd)
	if err != nil {
		r.t.Fatalf("reading SuperExecResult: %v", err)
	}
	var res SuperExecResult
	if err := strictUnmarshal(payload, &res); err != nil {
		r.t.Fatalf("SuperExecResult %s: %v", payload, err)
	}
	return res, <-r.out, <-r.err
}

// fixed answers every exec the same way.
func fixed(a Action, reason string) Decider {
	return DeciderFunc(func(context.Context, Exec) Decision { return Decision{Action: a, Reason: reason} })
}

func shReq(script string, env map[string]string) Request {
	return Request{File: "/bin/sh", Argv: []string{"sh", "-c", script}, Workdir: "/", Env: env}
}
