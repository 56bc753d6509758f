package escalate

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestServerDeathKillsEscalated: when the server process dies (SIGKILL, no
// cleanup of its own), its reaper sees its socket end and kills every
// escalated process, a double-forked setsid'd daemon included.
func TestServerDeathKillsEscalated(t *testing.T) {
	ts, _ := helperServer(t, "plain", nil)
	res, out, _ := ts.escalate(t, shReq(`(setsid /bin/sleep 1000 >/dev/null 2>&1 & echo $!); exit 0`, nil), "").wait()
	daemon, _ := strconv.Atoi(strings.TrimSpace(out))
	busy := ts.escalate(t, shReq(`echo $$; exec /bin/sleep 1000`, nil), "")
	leader := readLine(t, busy)
	if res.ExitCode != 0 || !alive(daemon) || !alive(leader) {
		t.Fatalf("daemon %q (%+v) or busy command %d not running", out, res, leader)
	}
	ts.helperKilled = true
	if err := ts.helper.Kill(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for alive(daemon) || alive(leader) {
		if time.Now().After(deadline) {
			t.Fatalf("escalated processes outlived their server: daemon %v, command %v", alive(daemon), alive(leader))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReaperKilledDuringCall: a reaper killed from outside takes its
// commands with it (they report SIGKILL); the next escalation gets a new
// reaper.
func TestReaperKilledDuringCall(t *testing.T) {
	ts := startSession(t, fixed(Escalate, ""), Options{})
	busy := ts.escalate(t, shReq(`echo up; exec /bin/sleep 1000`, nil), "")
	<-busy.line
	ts.s.rmu.Lock()
	pid := ts.s.reap.proc.Pid
	ts.s.rmu.Unlock()
	if err := unix.Kill(pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if res, _, _ := busy.wait(); res.Signal != 9 {
		t.Errorf("command of the killed reaper: %+v, want killed by SIGKILL", res)
	}
	if res, _, _ := ts.escalate(t, shReq("exit 5", nil), "").wait(); res.ExitCode != 5 {
		t.Errorf("escalation after the reaper died: %+v", res)
	}
}
