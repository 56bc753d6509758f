package parked

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/execgate/execgate/internal/testhelp"
)

// Exited returns only once the child has exited, parked meanwhile (not in
// a system call), and leaves the child's status to Wait.
func TestExitedParksAndLeavesTheStatus(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", "sleep 0.3; exit 3")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- Exited(cmd.Process.Pid) }()
	state := waitingState(t, "parked.Exited", done)
	if err := <-done; err != nil {
		t.Fatalf("Exited: %v", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("Exited returned after %v, before the child exited", d)
	}
	if strings.HasPrefix(state, "syscall") {
		t.Errorf("while waiting the goroutine was %q, want parked in the netpoller", state)
	}
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("Wait after Exited: %v, want exit status 3", err)
	}
}

// A child that has already exited is reported at once.
func TestExitedAlreadyExited(t *testing.T) {
	cmd := exec.Command("/bin/true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := Exited(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

// No such process: an error, so that the caller's Wait does the waiting.
func TestExitedNoProcess(t *testing.T) {
	cmd := exec.Command("/bin/true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if err := Exited(cmd.Process.Pid); err == nil {
		t.Error("Exited of a reaped child: no error")
	}
}

// Readable waits parked, returns true once a byte arrives, leaves the byte
// and the descriptor (blocking again) to the caller.
func TestReadableParksAndRestoresTheDescriptor(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	type result struct {
		ok  bool
		err error
	}
	done := make(chan result, 1)
	go func() {
		ok, err := Readable(fds[0], 10*time.Second)
		done <- result{ok, err}
	}()
	// Written only once the goroutine is seen waiting.
	state := waitingState(t, "parked.Readable", nil)
	if _, err := unix.Write(fds[1], []byte("R")); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if !r.ok || r.err != nil {
		t.Fatalf("Readable = %v, %v; want true", r.ok, r.err)
	}
	if strings.HasPrefix(state, "syscall") {
		t.Errorf("while waiting the goroutine was %q, want parked in the netpoller", state)
	}
	flags, err := unix.FcntlInt(uintptr(fds[0]), unix.F_GETFL, 0)
	if err != nil || flags&unix.O_NONBLOCK != 0 {
		t.Errorf("descriptor flags after Readable: %#x, %v; want blocking", flags, err)
	}
	var b [1]byte
	if n, err := unix.Read(fds[0], b[:]); n != 1 || b[0] != 'R' || err != nil {
		t.Errorf("read after Readable: %d %q %v", n, b[:n], err)
	}
}

// Nothing to read before the timeout: false, no error; a closed peer
// counts as readable (the caller's read then sees the end).
func TestReadableTimeoutAndHangUp(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	start := time.Now()
	if ok, err := Readable(fds[0], 100*time.Millisecond); ok || err != nil {
		t.Errorf("Readable with nothing sent = %v, %v; want false, nil", ok, err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("timed out after %v", d)
	}
	unix.Close(fds[1])
	if ok, err := Readable(fds[0], 5*time.Second); !ok || err != nil {
		t.Errorf("Readable after the peer closed = %v, %v; want true", ok, err)
	}
}

// waitingState returns the state (as goroutine dumps show it: "IO wait",
// "syscall", ...) of the goroutine whose stack holds fn, once it has been
// seen in the same state twice 20 ms apart (it is waiting, not passing
// through). done, if not nil, ends the search when it is ready first.
func waitingState(t *testing.T, fn string, done chan error) string {
	t.Helper()
	last := ""
	for range 100 {
		if len(done) > 0 {
			t.Fatal(fn + " returned before it was seen waiting")
		}
		state := testhelp.GoroutineState(fn)
		if state != "" && state == last {
			return state
		}
		last = state
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no goroutine seen waiting in %s", fn)
	return ""
}
