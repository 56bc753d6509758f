package engine

import (
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A running call keeps no thread blocked in a system call: the sandbox
// helper's exit (and, after the call, the next spare helper's start) are
// waited for in the netpoller. A thread blocked in waitid or poll for the
// whole call kept the Go runtime's monitor waking every 20 µs, a third of
// the server's CPU per trivial call (internal/parked).
func TestCallWaitsWithoutBlockingAThread(t *testing.T) {
	te := newTestEngine(t, "", nil)
	ws := t.TempDir()
	done := make(chan ShellOutput, 1)
	go func() { done <- te.shell(t, "sleep 1; echo done", ws, ws) }()
	// A goroutine seen in a system call in this many samples in a row,
	// 50 ms apart, is blocked in it, not passing through.
	const inARow = 4
	seen := map[string]int{}
	var blocked []string
	for sampling := true; sampling; {
		select {
		case out := <-done:
			if out.ExitCode != 0 || !strings.Contains(out.Output, "done") {
				t.Fatalf("call: %+v", out)
			}
			sampling = false
			continue
		case <-time.After(50 * time.Millisecond):
		}
		now := inSyscall()
		for id := range seen {
			if _, ok := now[id]; !ok {
				delete(seen, id)
			}
		}
		for id, stack := range now {
			if seen[id]++; seen[id] == inARow {
				blocked = append(blocked, stack)
			}
		}
	}
	if len(blocked) > 0 {
		t.Errorf("during the call, goroutines blocked in a system call:\n%s", strings.Join(blocked, "\n\n"))
	}
}

// inSyscall returns the goroutines of this process in a system call, by id
// (with their stacks), leaving out the runtime's signal loop, which shows
// as one while it waits for a signal.
func inSyscall() map[string]string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	out := map[string]string{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		m := goroutineHeader.FindStringSubmatch(g)
		if m == nil || strings.Contains(g, "os/signal.signal_recv") {
			continue
		}
		out[m[1]] = g
	}
	return out
}

var goroutineHeader = regexp.MustCompile(`^goroutine (\d+) \[syscall`)
