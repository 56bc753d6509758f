package security

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// An escalated command runs outside the sandbox, so the sandbox's pid
// namespace does not end what it starts. Whatever it starts must still die
// with the call: a daemon that double-forks and calls setsid leaves both the
// command's process group and its parent behind.

// TestEscalatedDaemonDiesWithCall: an allowed `sh -c` starts a double-forked
// setsid'd sleep (detached from the call's output, or holding it) and exits;
// the sleep must be gone when the call returns.
func TestEscalatedDaemonDiesWithCall(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: `prefix_rule(pattern=["sh", "-c"], decision="allow")` + "\n"})
		for _, tc := range []struct{ name, redirect string }{
			{"detached", ">/dev/null 2>&1"},
			{"holding the output", ""}, // the call waits its grace period, then kills it
		} {
			t.Run(tc.name, func(t *testing.T) {
				pidFile := filepath.Join(w.Out, "daemon-"+strings.ReplaceAll(tc.name, " ", "-"))
				daemon := `(setsid sh -c 'echo $$ > ` + pidFile + `; exec sleep 300' ` + tc.redirect + ` &); exit 0`
				check := `kill -0 "$(cat ` + pidFile + `)" && echo daemon-alive`
				res := w.shell(t, "sh -c "+shq(daemon)+"; sleep 0.3; sh -c "+shq(check))
				if !strings.Contains(res.Output, "daemon-alive") {
					t.Fatalf("the daemon was not running during the call: %q %+v", res.Output, res.Decisions)
				}
				pid := readPid(t, pidFile)
				if running(pid) {
					t.Errorf("ATTACK SUCCEEDED as %s: the escalated command's daemon (pid %d) outlived the call", u.name, pid)
					syscallKill(pid)
				}
			})
		}
	})
}

func readPid(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return pid
}

// running reports whether pid is alive (not a zombie), allowing a killed
// process a moment to be reaped.
func running(pid int) bool {
	deadline := time.Now().Add(500 * time.Millisecond)
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return false
		}
		i := strings.LastIndexByte(string(b), ')')
		if f := strings.Fields(string(b[i+1:])); len(f) > 0 && (f[0] == "Z" || f[0] == "X") {
			return false
		}
		if time.Now().After(deadline) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syscallKill cleans up after a failed test.
func syscallKill(pid int) { syscall.Kill(pid, syscall.SIGKILL) }
