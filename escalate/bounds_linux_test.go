package escalate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/execgate/execgate/internal/frame"
	"golang.org/x/sys/unix"
)

// askRaw sends req on a fresh stream and returns the stream and the raw
// answer (which may be the error answer ParseResponse turns into an error).
func (ts *testSession) askRaw(t *testing.T, req Request) (int, Response, error) {
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
		t.Fatalf("reading the answer: %v", err)
	}
	resp, err := ParseResponse(payload)
	return fd, resp, err
}

// wantServerError checks that err is the error answer, with want in it.
func wantServerError(t *testing.T, err error, want string) {
	t.Helper()
	var se *serverError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), want) {
		t.Errorf("answer error %v, want a serverError with %q", err, want)
	}
}

// TestStreamBound: beyond the server's bound on open streams (shared by
// its sessions), a stream gets the error answer, even when it is refused
// before its request arrives; a freed slot serves again.
func TestStreamBound(t *testing.T) {
	limits := &Limits{Streams: 3}
	a := startSession(t, fixed(Run, ""), Options{Limits: limits})
	b := startSession(t, fixed(Run, ""), Options{Limits: limits})
	var idle []int
	for _, ts := range []*testSession{a, a, b} {
		fd, err := Dial(ts.child)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, fd)
	}
	waitStreams(t, limits, 3)
	_, _, err := b.askRaw(t, Request{File: "/bin/true", Argv: []string{"true"}, Workdir: "/"})
	wantServerError(t, err, "too many exec streams open at once in this execgate server (limit 3")
	unix.Close(idle[0])
	waitStreams(t, limits, 2)
	if got := b.decide(t, Request{File: "/bin/true", Argv: []string{"true"}, Workdir: "/"}); got.Action != Run {
		t.Errorf("after a stream closed: %+v", got)
	}
	for _, fd := range idle[1:] {
		unix.Close(fd)
	}
}

func waitStreams(t *testing.T, l *Limits, n int64) {
	t.Helper()
	for range 500 {
		l.streams.mu.Lock()
		use := l.streams.use
		l.streams.mu.Unlock()
		if use == n {
			return
		}
		sleepMs(5)
	}
	t.Fatalf("streams in use never reached %d", n)
}

// TestEscalationBound: beyond the bound on running escalations, Escalate
// becomes the error answer and the record a Deny saying why.
func TestEscalationBound(t *testing.T) {
	var mu sync.Mutex
	var recs []Record
	ts := startSession(t, fixed(Escalate, ""), Options{Limits: &Limits{Escalations: 1},
		OnDecision: func(r Record) { mu.Lock(); recs = append(recs, r); mu.Unlock() }})
	first := ts.escalate(t, shReq("echo up; exec /bin/sleep 1000", nil), "")
	<-first.line
	fd, _, err := ts.askRaw(t, shReq("true", nil))
	unix.Close(fd)
	wantServerError(t, err, "too many escalated commands running at once in this execgate server (limit 1")
	first.forward(unix.SIGTERM)
	if res, _, _ := first.wait(); res.ExitCode != 143 {
		t.Errorf("first: %+v", res)
	}
	// The slot is free again.
	if res, _, _ := ts.escalate(t, shReq("true", nil), "").wait(); res.ExitCode != 0 {
		t.Errorf("after the first ended: %+v", res)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(recs) != 3 || recs[1].Decision.Action != Deny || !strings.Contains(recs[1].Decision.Reason, "too many escalated") {
		t.Errorf("records %+v", recs)
	}
}

// TestEscalationSlotFreeOnResult: an escalation's slot is free by the time
// its wrapper has the result, so that a shell running escalated commands
// one after another at the limit is never refused.
func TestEscalationSlotFreeOnResult(t *testing.T) {
	ts := startSession(t, fixed(Escalate, ""), Options{Limits: &Limits{Escalations: 1}})
	for i := range 50 {
		if res, _, _ := ts.escalate(t, shReq("true", nil), "").wait(); res.ExitCode != 0 {
			t.Fatalf("escalation %d after %d finished ones: %+v", i+1, i, res)
		}
	}
}

// TestRequestBytesBound: a request larger than the bytes the server lets
// its sessions receive at once gets the error answer.
func TestRequestBytesBound(t *testing.T) {
	ts := startSession(t, fixed(Run, ""), Options{Limits: &Limits{RequestBytes: 4096}})
	_, _, err := ts.askRaw(t, Request{File: "/bin/true", Argv: []string{"true", strings.Repeat("x", 5000)}, Workdir: "/"})
	wantServerError(t, err, "too many request bytes being received")
	if got := ts.decide(t, Request{File: "/bin/true", Argv: []string{"true"}, Workdir: "/"}); got.Action != Run {
		t.Errorf("a small request after: %+v", got)
	}
}

// TestEscalationResolution: what an escalation would run is resolved like
// the policy saw it, and refused when the sandbox could change it: a path
// through /proc, a symbolic link inside a writable root (program or
// workdir). Run answers are unaffected.
func TestEscalationResolution(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"sh": "/bin/sh", "dir": "/"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	ts := startSession(t, fixed(Escalate, ""), Options{WritableRoots: []string{root}})
	denied := []struct {
		req  Request
		want string
	}{
		{Request{File: "/proc/self/root/bin/sh", Argv: []string{"sh"}, Workdir: "/"}, "/proc/self/root/bin/sh: goes through /proc"},
		{Request{File: "/proc/self/exe", Argv: []string{"sh"}, Workdir: "/"}, "goes through /proc"},
		{Request{File: root + "/sh", Argv: []string{"sh"}, Workdir: "/"}, "reached through the symbolic link " + root + "/sh inside the writable root " + root},
		{Request{File: "sh", Argv: []string{"sh"}, Workdir: root}, "reached through the symbolic link " + root + "/sh"},
		{Request{File: "/bin/sh", Argv: []string{"sh"}, Workdir: root + "/dir"}, "workdir " + root + "/dir: reached through the symbolic link"},
		{Request{File: "/bin/sh", Argv: []string{"sh"}, Workdir: "/proc/self/cwd"}, "workdir /proc/self/cwd: goes through /proc"},
		{Request{File: "/", Argv: []string{"sh"}, Workdir: "/"}, "/: not a regular file"},
	}
	for _, tc := range denied {
		got := ts.decide(t, tc.req)
		if got.Action != Deny || !strings.Contains(got.Reason, tc.want) {
			t.Errorf("%s in %s: %+v, want Deny with %q", tc.req.File, tc.req.Workdir, got, tc.want)
		}
	}
	// A link outside every writable root is followed: /bin/sh runs.
	if res, _, _ := ts.escalate(t, shReq("exit 3", nil), "").wait(); res.ExitCode != 3 {
		t.Errorf("/bin/sh: %+v", res)
	}
}

func sleepMs(n int) { time.Sleep(time.Duration(n) * time.Millisecond) }
