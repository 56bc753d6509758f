package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestCgroupMaker(t *testing.T) {
	for _, tc := range []struct {
		name string
		pid  int
	}{
		{"execgate-123-0badc0de-1", 123},
		{"execgate-123-0badc0de-probe", 123},
		{"execgate-7-12", 7}, // before servers named their instance
		{"execgate-123", 0},
		{"execgate-123-", 0},
		{"execgate--1", 0},
		{"execgate-0123-1", 0},
		{"execgate-0-1", 0},
		{"execgate-x-1", 0},
		{"execgate-99999999999-1", 0},
		{"execgate-12-A", 0},
		{"execgate-12-a.b", 0},
		{"other-12-1", 0},
	} {
		pid, ok := cgroupMaker(tc.name)
		if pid != tc.pid || ok != (tc.pid != 0) {
			t.Errorf("cgroupMaker(%q) = %d, %v; want %d", tc.name, pid, ok, tc.pid)
		}
	}
}

// TestOrphanCgroupsSwept: a launcher that finds its cgroup parent removes
// the empty cgroups of servers that are gone (their pid is free, or now
// another process's: a kernel thread, one started later) and leaves alone those of a live process, one with a
// process in it, one whose lock a live server holds (even under a pid
// that is free here, as for a server in another pid namespace, and even
// when its pid's process started later), another launcher's, and any name
// that is not a server's.
func TestOrphanCgroupsSwept(t *testing.T) {
	parent, err := ownPidsCgroup()
	if err != nil || os.Geteuid() != 0 {
		t.Skipf("no pids cgroup to make children in (root: %v): %v", os.Geteuid() == 0, err)
	}
	// Another server, running: its made-ahead cgroup carries an old time,
	// so only its lock tells that it is alive.
	other := NewLauncher(nil, NamespaceLauncher(testNsexec(t)), MaxProcesses(64))
	defer other.Close()
	if other.pids.cgroup == "" {
		t.Skipf("no pids cgroup: %s", other.pids.cgroupErr)
	}
	<-other.pids.orphansSwept
	otherReady := waitReadyCgroup(t, other)
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(otherReady, old, old); err != nil {
		t.Fatal(err)
	}

	dead := deadPid(t)
	live := startSleep(t)
	inside := startSleep(t)
	mk := func(name string) string {
		t.Helper()
		dir := filepath.Join(parent, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatalf("make a cgroup: %v", err)
		}
		t.Cleanup(func() {
			// Move the process out before it is removed.
			os.WriteFile(filepath.Join(parent, "cgroup.procs"), []byte(strconv.Itoa(inside.Process.Pid)), 0)
			unix.Rmdir(dir)
		})
		return dir
	}
	name := func(pid int, rest string) string { return fmt.Sprintf("execgate-%d-%s", pid, rest) }
	gone := []string{
		mk(name(dead, "0badc0de-1")),
		mk(name(dead, "7")), // named before instances were
		mk(name(live.Process.Pid, "0badc0de-2")),
	}
	// The live process started an hour after this one was made.
	if err := os.Chtimes(gone[2], old, old); err != nil {
		t.Fatal(err)
	}
	// Pid 2 is kthreadd, where this is the first pid namespace.
	if offset, ok := bootTimeOffset(); ok {
		if p, ok := readProcStat(2, offset); ok && p.kernel {
			gone = append(gone, mk(name(2, "0badc0de-6")))
		}
	}
	busy := mk(name(dead, "0badc0de-3"))
	if err := os.WriteFile(filepath.Join(busy, "cgroup.procs"), []byte(strconv.Itoa(inside.Process.Pid)), 0); err != nil {
		t.Fatal(err)
	}
	locked := mk(name(dead, "0badc0de-4"))
	lock, err := lockGroup(locked, unix.LOCK_SH)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(lock)
	kept := []string{
		mk(name(live.Process.Pid, "0badc0de-5")),
		busy, locked, otherReady,
		mk(fmt.Sprintf("execgate-%d", dead)),
		mk(fmt.Sprintf("execgate-0%d-1", dead)),
		mk(fmt.Sprintf("execgate-%d-BAD", dead)),
	}
	if err := unix.Kill(dead, 0); !errors.Is(err, unix.ESRCH) {
		t.Fatalf("pid %d was reused meanwhile (kill: %v)", dead, err)
	}

	var logs bytes.Buffer
	l := NewLauncher(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), NamespaceLauncher(testNsexec(t)), MaxProcesses(64))
	defer l.Close()
	<-l.pids.orphansSwept
	for _, d := range gone {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: left (stat: %v)", filepath.Base(d), err)
		}
		if !strings.Contains(logs.String(), "cgroup="+d+" ") {
			t.Errorf("%s: its removal is not logged", filepath.Base(d))
		}
	}
	for _, d := range kept {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s: removed (stat: %v)", filepath.Base(d), err)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", logs.String())
	}
	// The other launcher still makes its cgroups, and removes them.
	other.Close()
	if _, err := os.Stat(otherReady); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the other launcher left %s (stat: %v)", otherReady, err)
	}
}

// TestKilledServerCgroupsRemoved: a server killed with SIGKILL during a
// call leaves its cgroups (the call's, the next one's made ahead); the
// next launcher removes them once the call's processes are gone.
func TestKilledServerCgroupsRemoved(t *testing.T) {
	parent, err := ownPidsCgroup()
	if err != nil || os.Geteuid() != 0 {
		t.Skipf("no pids cgroup to make children in (root: %v): %v", os.Geteuid() == 0, err)
	}
	e := newTestEnv(t, 0)
	req, err := json.Marshal(launchRequest{Policy: Policy{Mode: WorkspaceWrite}, Workspace: e.ws, NsExec: testNsexec(t), MaxProcs: 64,
		Argv: []string{"/bin/sh", "-c", "echo started; exec /bin/sleep 600"}})
	if err != nil {
		t.Fatal(err)
	}
	server := exec.Command(e.bin, "launch", string(req))
	server.Dir = e.ws
	out, err := server.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer server.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if line != "started\n" {
		server.Process.Kill()
		server.Wait()
		t.Fatalf("the call did not start: %q, %v", line, err)
	}
	left := func() []string {
		l, _ := filepath.Glob(filepath.Join(parent, fmt.Sprintf("execgate-%d-*", server.Process.Pid)))
		return l
	}
	if len(left()) == 0 {
		t.Fatal("the server made no cgroup for its call")
	}
	server.Process.Kill()
	server.Wait()
	// The helper dies with its parent, and the call with the helper.
	for _, d := range left() {
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			procs, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
			if err != nil || len(procs) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s still has processes %q", d, procs)
			}
		}
	}
	killed := left()
	if len(killed) == 0 {
		t.Fatal("the killed server left no cgroup: nothing to test")
	}
	l := NewLauncher(nil, NamespaceLauncher(testNsexec(t)), MaxProcesses(64))
	defer l.Close()
	<-l.pids.orphansSwept
	if still := left(); len(still) != 0 {
		t.Errorf("the killed server's cgroups %v are left of %v", still, killed)
	}
}

// waitReadyCgroup waits for the cgroup l makes ahead of the next call.
func waitReadyCgroup(t *testing.T, l *Launcher) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		g := &l.pids.groups
		g.mu.Lock()
		ready := g.ready
		g.mu.Unlock()
		if ready != "" {
			return ready
		}
	}
	t.Fatal("the launcher made no cgroup ahead")
	return ""
}

// deadPid is the pid of a process that ran and was reaped.
func deadPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("/bin/true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// startSleep starts a process that lives until the test ends.
func startSleep(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/bin/sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}
