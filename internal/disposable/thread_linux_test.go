package disposable

import (
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestThreadEnds: what f does to its thread (no_new_privs here, which no
// thread of a test binary has otherwise) is on no thread of the process
// once the threads have ended, the main thread included, however often
// the scheduler would have put f there.
func TestThreadEnds(t *testing.T) {
	for range 100 {
		err := Thread(func() error {
			if unix.Gettid() == unix.Getpid() {
				t.Error("f ran on the main thread")
			}
			return unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		marked := markedThreads(t)
		if len(marked) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("threads left with no_new_privs: %v", marked)
		}
	}
}

func markedThreads(t *testing.T) []string {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var marked []string
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/status")
		if err != nil {
			continue // ended meanwhile
		}
		if strings.Contains(string(b), "\nNoNewPrivs:\t1\n") {
			marked = append(marked, task.Name())
		}
	}
	return marked
}
