package escalate

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/execgate/execgate/internal/frame"
	"golang.org/x/sys/unix"

	"github.com/execgate/execgate/internal/testhelp"
)

func TestEscalateWorkdir(t *testing.T) {
	ts := startSession(t, fixed(Escalate, ""), Options{})
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(missing, dangling); err != nil {
		t.Fatal(err)
	}
	denied := []struct{ workdir, reason string }{
		{missing, "workdir " + missing + " does not exist"},
		{dangling, "workdir " + dangling + " does not exist"},
		{file, "workdir " + file + " is not a directory"},
	}
	for _, tc := range denied {
		got := ts.decide(t, Request{File: "/bin/pwd", Argv: []string{"pwd"}, Workdir: tc.workdir})
		if got != (Response{Action: Deny, Reason: tc.reason}) {
			t.Errorf("workdir %s: answer %+v, want Deny %q", tc.workdir, got, tc.reason)
		}
	}
	res, out, _ := ts.escalate(t, Request{File: "/bin/pwd", Argv: []string{"pwd", "-P"}, Workdir: link}, "").wait()
	if res.ExitCode != 0 || out != real+"\n" {
		t.Errorf("through a symlink: pwd -P printed %q (exit %d), want %q", out, res.ExitCode, real)
	}
}

// TestEscalateWorkdirPinned swaps the workdir for a symlink after the server
// checked it: the command must still start in the directory checked.
func TestEscalateWorkdirPinned(t *testing.T) {
	ts := startSession(t, fixed(Escalate, ""), Options{})
	dir := t.TempDir()
	wd := filepath.Join(dir, "wd")
	elsewhere := filepath.Join(dir, "elsewhere")
	for _, d := range []string{wd, elsewhere} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fd, resp := ts.ask(t, Request{File: "/bin/pwd", Argv: []string{"pwd", "-P"}, Workdir: wd})
	if resp.Action != Escalate {
		t.Fatalf("answer %+v", resp)
	}
	moved := filepath.Join(dir, "moved")
	if err := os.Rename(wd, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, wd); err != nil {
		t.Fatal(err)
	}
	res, out, _ := superExec(t, fd, "").wait()
	if res.ExitCode != 0 || out != moved+"\n" {
		t.Fatalf("pwd -P printed %q (exit %d), want the checked directory, now %q", out, res.ExitCode, moved)
	}
}

// TestCancelKillsEscalated: ending the session kills every escalated
// command and everything it started, a background child in its group, a
// setsid'd one and a double-forked setsid'd one whose parent has exited
// included, and Serve returns only once they are gone.
func TestCancelKillsEscalated(t *testing.T) {
	ts := startSession(t, fixed(Escalate, ""), Options{})
	// The first command runs in the foreground with a background child; the
	// second leaves a setsid'd child behind when it exits, the third a
	// double-forked one.
	busy := ts.escalate(t, shReq(`/bin/sleep 1000 & echo $!; /bin/sleep 1000`, nil), "")
	leaver := ts.escalate(t, shReq(`setsid /bin/sleep 1000 >/dev/null 2>&1 & echo $!`, nil), "")
	daemon := ts.escalate(t, shReq(`(setsid /bin/sleep 1000 >/dev/null 2>&1 & echo $!); exit 0`, nil), "")
	var pids []int
	for _, r := range []*running{leaver, daemon} {
		res, out, _ := r.wait()
		if res.ExitCode != 0 {
			t.Fatalf("%+v", res)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(out))
		pids = append(pids, pid)
	}
	// The busy command's background sleep, once it is up.
	bg := readLine(t, busy)
	pids = append(pids, bg)
	for _, pid := range pids {
		if !alive(pid) {
			t.Fatalf("process %d is not running before the session ends", pid)
		}
	}

	start := time.Now()
	ts.stop(t)
	t.Logf("Serve returned %v after cancel", time.Since(start))
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d survived the session", pid)
		}
	}
	res, _, _ := busy.wait()
	if res != (SuperExecResult{ExitCode: 137, Signal: 9}) {
		t.Errorf("busy command: result %+v; want 137/9", res)
	}
}

// TestSessionsKillOnlyTheirOwn: two sessions run at once (two calls); ending
// one kills its escalated commands' descendants, not the other's.
func TestSessionsKillOnlyTheirOwn(t *testing.T) {
	a := startSession(t, fixed(Escalate, ""), Options{})
	b := startSession(t, fixed(Escalate, ""), Options{})
	daemon := `(setsid /bin/sleep 1000 >/dev/null 2>&1 & echo $!); exit 0`
	pidOf := func(ts *testSession) int {
		res, out, _ := ts.escalate(t, shReq(daemon, nil), "").wait()
		pid, _ := strconv.Atoi(strings.TrimSpace(out))
		if res.ExitCode != 0 || !alive(pid) {
			t.Fatalf("daemon: %+v %q", res, out)
		}
		return pid
	}
	pa, pb := pidOf(a), pidOf(b)
	a.stop(t)
	if alive(pa) {
		t.Errorf("session a's daemon %d survived it", pa)
	}
	if !alive(pb) {
		t.Errorf("session b's daemon %d was killed when session a ended", pb)
	}
	b.stop(t)
	if alive(pb) {
		t.Errorf("session b's daemon %d survived it", pb)
	}
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// readLine reads the first line the running command prints, as a pid.
func readLine(t *testing.T, r *running) int {
	t.Helper()
	select {
	case line := <-r.line:
		pid, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil {
			t.Fatalf("first line %q", line)
		}
		return pid
	case <-time.After(10 * time.Second):
		t.Fatal("the command printed nothing")
	}
	return 0
}

func TestBadPeersAreLoggedAndSurvived(t *testing.T) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	dn := int(devnull.Fd())
	header := func(n uint32) []byte {
		b := make([]byte, 4)
		binary.LittleEndian.PutUint32(b, n)
		return b
	}
	// stream performs a handshake and returns the wrapper's end.
	stream := func(t *testing.T, ts *testSession) int {
		fd, err := Dial(ts.child)
		if err != nil {
			t.Fatal(err)
		}
		return fd
	}
	req := AppendRequest(nil, &Request{File: "/bin/true", Argv: []string{"true"}, Workdir: "/"})
	tests := []struct {
		name    string
		bad     func(t *testing.T, ts *testSession)
		wantLog string
	}{
		{"garbage datagram", func(t *testing.T, ts *testSession) {
			unix.Sendmsg(ts.child, []byte("garbage"), nil, nil, 0)
		}, "must be 1 byte, got 2"},
		{"handshake without fd", func(t *testing.T, ts *testSession) {
			unix.Sendmsg(ts.child, []byte{0}, nil, nil, 0)
		}, "exactly 1 fd, got 0"},
		{"handshake with a non-socket", func(t *testing.T, ts *testSession) {
			unix.Sendmsg(ts.child, []byte{0}, unix.UnixRights(dn), nil, 0)
		}, "not a stream socket"},
		{"oversized frame", func(t *testing.T, ts *testSession) {
			fd := stream(t, ts)
			defer unix.Close(fd)
			unix.Write(fd, header(frame.MaxPayload+1))
			ts.logs.waitFor(t, "over the")
		}, fmt.Sprintf("over the %d-byte limit", frame.MaxPayload)},
		{"EOF mid-request", func(t *testing.T, ts *testSession) {
			fd := stream(t, ts)
			unix.Write(fd, append(header(100), `{"file":`...))
			unix.Close(fd)
		}, "closed inside a 100-byte frame"},
		{"unknown field", func(t *testing.T, ts *testSession) {
			fd := stream(t, ts)
			defer unix.Close(fd)
			frame.Write(fd, []byte(`{"file":"/bin/true","argv":["true"],"workdir":"/","env":{},"sudo":true}`), nil)
			frame.Read(fd) // the server closes without answering
		}, `unknown field \"sudo\"`},
		{"fds with the request", func(t *testing.T, ts *testSession) {
			fd := stream(t, ts)
			defer unix.Close(fd)
			frame.Write(fd, req, []int{dn})
			frame.Read(fd)
		}, "request carried 1 fds"},
		{"wrong fd count", func(t *testing.T, ts *testSession) {
			fd := stream(t, ts)
			defer unix.Close(fd)
			frame.Write(fd, AppendRequest(nil, &Request{File: "/bin/true", Argv: []string{"true", "escalate"}, Workdir: "/"}), nil)
			frame.Read(fd)
			frame.Write(fd, []byte(`{"fds":[0,1,2]}`), []int{dn, dn})
			frame.Read(fd)
		}, "SuperExec carried 2 fds, want 3"},
		{"wrong fd mapping", func(t *testing.T, ts *testSession) {
			fd := stream(t, ts)
			defer unix.Close(fd)
			frame.Write(fd, AppendRequest(nil, &Request{File: "/bin/true", Argv: []string{"true", "escalate"}, Workdir: "/"}), nil)
			frame.Read(fd)
			frame.Write(fd, []byte(`{"fds":[0,1,5]}`), []int{dn, dn, dn})
			frame.Read(fd)
		}, "SuperExec maps fds onto [0 1 5], want [0 1 2]"},
	}
	d := DeciderFunc(func(_ context.Context, e Exec) Decision {
		if e.Argv[len(e.Argv)-1] == "escalate" {
			return Decision{Action: Escalate}
		}
		return Decision{Action: Run}
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := startSession(t, d, Options{})
			before := testhelp.OpenFds(t)
			tc.bad(t, ts)
			ts.logs.waitFor(t, tc.wantLog)
			if file := "file=/bin/true"; (strings.Contains(tc.name, "fd ") || tc.name == "unknown field") && !strings.Contains(ts.logs.String(), file) {
				t.Errorf("log does not name the exec's file: %s", ts.logs.String())
			}
			if got := ts.decide(t, Request{File: "/bin/true", Argv: []string{"true"}, Workdir: "/"}); got.Action != Run {
				t.Fatalf("next exec after %s: %+v", tc.name, got)
			}
			// Rejected descriptors are closed, not leaked (allow the stream
			// of an exec still being torn down a moment to go).
			deadline := time.Now().Add(2 * time.Second)
			for testhelp.OpenFds(t) > before && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if after := testhelp.OpenFds(t); after > before {
				t.Errorf("fds before %d, after %d", before, after)
			}
		})
	}
}

func TestConcurrentExecs(t *testing.T) {
	const n = 50
	release := make(chan struct{})
	var answered sync.WaitGroup
	answered.Add(n - 1)
	d := DeciderFunc(func(ctx context.Context, e Exec) Decision {
		i, _ := strconv.Atoi(e.Argv[1])
		if i == 0 {
			// A blocking decision (a prompt) must not hold up the others
			// once it says it is waiting.
			Waiting(ctx)
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		switch i % 3 {
		case 0:
			return Decision{Action: Escalate}
		case 1:
			return Decision{Action: Deny, Reason: "deny " + e.Argv[1]}
		}
		return Decision{Action: Run}
	})
	ts := startSession(t, d, Options{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i != 0 {
				defer answered.Done()
			}
			errs <- oneExec(t, ts, i)
		}()
	}
	answered.Wait()
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// oneExec runs exec number i and checks its answer and output are its own.
func oneExec(t *testing.T, ts *testSession, i int) error {
	req := Request{File: "/bin/echo", Argv: []string{"echo", strconv.Itoa(i)}, Workdir: "/"}
	fd, resp := ts.ask(t, req)
	switch i % 3 {
	case 0:
		if resp.Action != Escalate {
			unix.Close(fd)
			return fmt.Errorf("exec %d: %+v, want Escalate", i, resp)
		}
		res, out, _ := superExec(t, fd, "").wait()
		if res.ExitCode != 0 || out != strconv.Itoa(i)+"\n" {
			return fmt.Errorf("exec %d: exit %d output %q", i, res.ExitCode, out)
		}
		return nil
	case 1:
		defer unix.Close(fd)
		if want := (Response{Action: Deny, Reason: "deny " + strconv.Itoa(i)}); resp != want {
			return fmt.Errorf("exec %d: %+v, want %+v", i, resp, want)
		}
	default:
		defer unix.Close(fd)
		if resp.Action != Run {
			return fmt.Errorf("exec %d: %+v, want Run", i, resp)
		}
	}
	return nil
}

func TestDeciderFailuresDeny(t *testing.T) {
	d := DeciderFunc(func(_ context.Context, e Exec) Decision {
		switch e.Argv[1] {
		case "panic":
			panic("policy bug")
		case "bogus":
			return Decision{Action: Action(42)}
		case "bad-env":
			return Decision{Action: Escalate, Env: []string{"NO_EQUALS"}}
		case "wiring-env":
			return Decision{Action: Escalate, Env: []string{EnvSocket + "=9"}}
		}
		return Decision{Action: Run}
	})
	ts := startSession(t, d, Options{OnDecision: func(r Record) {
		if r.Exec.Argv[1] == "hook-panic" {
			panic("hook bug")
		}
	}})
	for _, arg := range []string{"panic", "bogus", "bad-env", "wiring-env"} {
		got := ts.decide(t, Request{File: "/bin/x", Argv: []string{"x", arg}, Workdir: "/"})
		if got != (Response{Action: Deny, Reason: "internal error in the exec policy"}) {
			t.Errorf("%s: %+v, want an internal-error Deny", arg, got)
		}
	}
	if got := ts.decide(t, Request{File: "/bin/x", Argv: []string{"x", "hook-panic"}, Workdir: "/"}); got.Action != Run {
		t.Errorf("a panicking OnDecision changed the answer: %+v", got)
	}
	for _, want := range []string{"Decider panicked", "unknown action", "invalid environment entry", "OnDecision panicked"} {
		ts.logs.waitFor(t, want)
	}
}

func TestSessionLifecycle(t *testing.T) {
	s, err := NewSession(fixed(Run, ""), Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := s.ChildFile()
	testhelp.CheckCloexec(t, "child end (in the parent)", int(f.Fd()))
	// Through Control, not Fd: Fd would make the server end blocking.
	s.server.rc.Control(func(fd uintptr) { testhelp.CheckCloexec(t, "server end", int(fd)) })
	if typ, err := unix.GetsockoptInt(int(f.Fd()), unix.SOL_SOCKET, unix.SO_TYPE); err != nil || typ != unix.SOCK_SEQPACKET {
		t.Errorf("child end type %d, %v; want SOCK_SEQPACKET", typ, err)
	}
	if err := s.CloseChild(); err != nil || s.ChildFile() != nil {
		t.Errorf("CloseChild: %v, ChildFile after: %v", err, s.ChildFile())
	}
	if err := s.CloseChild(); err != nil {
		t.Errorf("second CloseChild: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Serve(ctx); err != nil {
		t.Errorf("Serve on a cancelled context: %v", err)
	}
	if err := s.Serve(context.Background()); err == nil {
		t.Error("second Serve succeeded")
	}
	if _, err := NewSession(nil, Options{}); err == nil {
		t.Error("NewSession without a Decider succeeded")
	}
	s2, _ := NewSession(fixed(Run, ""), Options{})
	if err := s2.Close(); err != nil {
		t.Errorf("Close of an unserved session: %v", err)
	}
	if err := s2.Serve(context.Background()); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("Serve after Close: %v", err)
	}
}

// TestDecisionWithdrawnWhenWrapperLeaves: a wrapper killed while its exec
// waits on a prompt cancels the Decider's context.
func TestDecisionWithdrawnWhenWrapperLeaves(t *testing.T) {
	asked := make(chan struct{})
	withdrawn := make(chan error, 1)
	d := DeciderFunc(func(ctx context.Context, e Exec) Decision {
		if e.Argv[0] != "prompt" {
			return Decision{Action: Run}
		}
		Waiting(ctx)
		close(asked)
		select {
		case <-ctx.Done():
			withdrawn <- ctx.Err()
		case <-time.After(10 * time.Second):
			withdrawn <- errors.New("never withdrawn")
		}
		return Decision{Action: Deny, Reason: "cancelled"}
	})
	ts := startSession(t, d, Options{})
	fd, err := Dial(ts.child)
	if err != nil {
		t.Fatal(err)
	}
	frame.Write(fd, AppendRequest(nil, &Request{File: "/bin/x", Argv: []string{"prompt"}, Workdir: "/"}), nil)
	<-asked
	unix.Close(fd)
	if err := <-withdrawn; !errors.Is(err, context.Canceled) {
		t.Fatalf("Decider context: %v, want cancelled", err)
	}
	// The session goes on serving.
	if got := ts.decide(t, Request{File: "/bin/x", Argv: []string{"x"}, Workdir: "/"}); got.Action != Run {
		t.Fatalf("next exec: %+v", got)
	}
}

func TestSlowDecisionStillAnswered(t *testing.T) {
	d := DeciderFunc(func(ctx context.Context, e Exec) Decision {
		select {
		case <-time.After(200 * time.Millisecond):
			return Decision{Action: Escalate}
		case <-ctx.Done():
			return Decision{Action: Deny, Reason: "cancelled"}
		}
	})
	ts := startSession(t, d, Options{})
	res, out, _ := ts.escalate(t, shReq("echo slow", nil), "").wait()
	if res.ExitCode != 0 || out != "slow\n" {
		t.Fatalf("exit %d output %q", res.ExitCode, out)
	}
}

// TestChildEndInherited: passed as ExtraFiles[0], the child end is fd 3 of
// the shell, and no other descriptor of the server process is inherited.
func TestChildEndInherited(t *testing.T) {
	s, err := NewSession(fixed(Run, ""), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(s.ChildFile().Fd()), &st); err != nil {
		t.Fatal(err)
	}
	// ls lists the shell's fds from a child process, so the listing holds
	// exactly what the shell inherited.
	cmd := exec.Command("/bin/sh", "-c", `echo "$`+EnvSocket+`"; /bin/ls -l /proc/$$/fd/`)
	cmd.ExtraFiles = []*os.File{s.ChildFile()}
	cmd.Env = ShellEnv(3, "/w")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	got := fdLinks(string(out))
	if !strings.HasPrefix(string(out), "3\n") || got["3"] != fmt.Sprintf("socket:[%d]", st.Ino) {
		t.Fatalf("shell saw %s=%q and fd 3 -> %q, want 3 and the child end socket:[%d]", EnvSocket, strings.SplitN(string(out), "\n", 2)[0], got["3"], st.Ino)
	}
	for fd, target := range got {
		if fd != "0" && fd != "1" && fd != "2" && fd != "3" {
			t.Errorf("shell inherited fd %s -> %s", fd, target)
		}
	}
}

func TestRejectedHandshakeFloodLogsBounded(t *testing.T) {
	ts := startSession(t, fixed(Run, ""), Options{})
	const flood = 300
	for range flood {
		if err := unix.Sendmsg(ts.child, []byte("xx"), nil, nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	if got := ts.decide(t, Request{File: "/bin/true", Argv: []string{"true"}, Workdir: "/"}); got.Action != Run {
		t.Fatalf("exec after the flood: %+v", got)
	}
	ts.stop(t)
	log := ts.logs.String()
	if n := strings.Count(log, `msg="escalate: rejected handshake`); n != 1 {
		t.Errorf("%d rejected-handshake lines, want 1", n)
	}
	if !strings.Contains(log, fmt.Sprintf("problems in this call\" count=%d", flood)) {
		t.Errorf("no summary line with the count:\n%s", log)
	}
}

// TestRequestBeforeHandshake: the in-shell client writes its request into
// the stream before it hands the stream over, so the session finds the
// request whole and answers on the goroutine that accepted it. A request
// whose rest comes only later, and a stream whose request never comes,
// hold up no other exec.
func TestRequestBeforeHandshake(t *testing.T) {
	ts := startSession(t, fixed(Deny, "no"), Options{})
	payload := AppendRequest(nil, &Request{File: "/bin/true", Argv: []string{"true"}, Workdir: "/"})
	framed := binary.LittleEndian.AppendUint32(nil, uint32(len(payload)))
	framed = append(framed, payload...)

	// handOver writes pre into a fresh stream, then hands the stream over.
	handOver := func(pre []byte) int {
		t.Helper()
		pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(pre) > 0 {
			if _, err := unix.Write(pair[0], pre); err != nil {
				t.Fatal(err)
			}
		}
		if err := unix.Sendmsg(ts.child, []byte{0}, unix.UnixRights(pair[1]), nil, 0); err != nil {
			t.Fatal(err)
		}
		unix.Close(pair[1])
		return pair[0]
	}
	answer := func(fd int) Response {
		t.Helper()
		p, _, err := frame.Read(fd)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := ParseResponse(p)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	whole := handOver(framed)
	defer unix.Close(whole)
	if got := answer(whole); got.Action != Deny || got.Reason != "no" {
		t.Fatalf("request sent whole before the handshake: %+v", got)
	}
	split := handOver(framed[:7])
	defer unix.Close(split)
	idle := handOver(nil)
	defer unix.Close(idle)
	if got := ts.decide(t, Request{File: "/bin/true", Argv: []string{"true"}, Workdir: "/"}); got.Action != Deny {
		t.Fatalf("an exec behind a half-sent and an idle request: %+v", got)
	}
	if _, err := unix.Write(split, framed[7:]); err != nil {
		t.Fatal(err)
	}
	if got := answer(split); got.Action != Deny || got.Reason != "no" {
		t.Fatalf("request finished after the handshake: %+v", got)
	}
}

// TestDialRequest: the Go client's request goes out with its handshake,
// before it when small, after it when larger than a stream buffer may
// hold unread; both are answered.
func TestDialRequest(t *testing.T) {
	ts := startSession(t, fixed(Deny, "no"), Options{})
	for _, size := range []int{10, preSendMax + 1, 1 << 20} {
		req := Request{File: "/bin/true", Argv: []string{"true"}, Workdir: "/", Env: map[string]string{"BIG": strings.Repeat("x", size)}}
		fd, err := DialRequest(ts.child, AppendRequest(nil, &req))
		if err != nil {
			t.Fatal(err)
		}
		p, _, err := frame.Read(fd)
		unix.Close(fd)
		if err != nil {
			t.Fatalf("%d-byte variable: %v", size, err)
		}
		if resp, err := ParseResponse(p); err != nil || resp.Action != Deny || resp.Reason != "no" {
			t.Errorf("%d-byte variable: %+v %v", size, resp, err)
		}
	}
}
