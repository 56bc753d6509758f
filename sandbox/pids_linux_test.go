package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMountedPath(t *testing.T) {
	for _, tc := range []struct{ mnt, root, path, want string }{
		{"/sys/fs/cgroup/pids", "/", "/", "/sys/fs/cgroup/pids"},
		{"/sys/fs/cgroup/pids", "/", "/user.slice/a", "/sys/fs/cgroup/pids/user.slice/a"},
		{"/sys/fs/cgroup", "/docker/x", "/docker/x/sub", "/sys/fs/cgroup/sub"},
		{"/sys/fs/cgroup", "/docker/x", "/other", ""},
	} {
		got, err := mountedPath(tc.mnt, tc.root, tc.path)
		if got != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("mountedPath(%q, %q, %q) = %q, %v; want %q", tc.mnt, tc.root, tc.path, got, err, tc.want)
		}
	}
	if got, err := unescapeMountPath(`/a\040b\134c`); err != nil || got != `/a b\c` {
		t.Errorf("unescapeMountPath = %q, %v", got, err)
	}
}

// TestProcessBoundReport: doctor's line names the mechanism, and says
// NONE where nothing bounds a call.
func TestProcessBoundReport(t *testing.T) {
	for _, tc := range []struct {
		l    *Launcher
		want string
	}{
		{&Launcher{pids: pidsBound{max: 0}}, "none (max_processes = 0)"},
		{&Launcher{pids: pidsBound{max: 64, cgroup: "/sys/fs/cgroup/pids"}}, "64 per call (a pids cgroup"},
		{&Launcher{caps: Capabilities{Namespaces: true}, pids: pidsBound{max: 64}}, "64 per call (RLIMIT_NPROC"},
		{&Launcher{caps: Capabilities{Namespaces: true}, pids: pidsBound{max: 64, root: true}}, "NONE: RLIMIT_NPROC does not apply to root"},
		{&Launcher{pids: pidsBound{max: 64}}, "NONE: RLIMIT_NPROC would count every process of this user"},
		{&Launcher{caps: Capabilities{Namespaces: true}, pids: pidsBound{max: 64, oldKernel: true}}, "NONE: RLIMIT_NPROC counts every process of this user before Linux 5.14"},
	} {
		if !kernelAtLeast(2, 6) || kernelAtLeast(99, 0) {
			t.Fatal("kernelAtLeast is wrong")
		}
		if got := tc.l.ProcessBound(); !strings.HasPrefix(got, tc.want) {
			t.Errorf("ProcessBound() = %q, want %q...", got, tc.want)
		}
	}
}

// leftCgroups lists the cgroups l made that still exist.
func leftCgroups(l *Launcher) []string {
	if l.pids.cgroup == "" {
		return nil
	}
	left, _ := filepath.Glob(filepath.Join(l.pids.cgroup, fmt.Sprintf("execgate-%d-*", os.Getpid())))
	return left
}

// TestProcessBound: a call that starts more processes than its bound has
// the starts beyond it refused, whoever runs the server; with a pids cgroup
// (root here) the launcher counts them, and removes its cgroups at the end.
func TestProcessBound(t *testing.T) {
	for _, uid := range []int{0, nobody} {
		e := newTestEnv(t, uid)
		// 60 subshells that wait on a fifo, no exec: each is a process.
		script := `mkfifo f; exec 8<>f; n=0; for ((i = 0; i < 60; i++)); do (read -u 8 -t 5) & done; echo started`
		out, _ := e.launch(t, launchRequest{Policy: Policy{Mode: WorkspaceWrite}, MaxProcs: 30, Argv: []string{"/bin/bash", "-c", script}})
		t.Logf("uid %d:\n%s", uid, out)
		switch {
		case strings.Contains(out, `bound "NONE`):
			t.Logf("uid %d: no bound here", uid)
			continue
		case !strings.Contains(out, "Resource temporarily unavailable"):
			t.Errorf("uid %d: 60 processes started under a bound of 30:\n%s", uid, out)
		}
		if strings.Contains(out, "a pids cgroup of its own") {
			if strings.Contains(out, "refused 0") {
				t.Errorf("uid %d: the cgroup counted no refused start:\n%s", uid, out)
			}
			if !strings.Contains(out, "cgroups left 0") {
				t.Errorf("uid %d: cgroups left behind:\n%s", uid, out)
			}
		}
	}
}

// TestPidsCgroupNameIsThisServers: a cgroup left by another server with
// this process's pid (one killed before it removed its own, or one in
// another pid namespace) does not stand in the way of this one's.
func TestPidsCgroupNameIsThisServers(t *testing.T) {
	dir, err := ownPidsCgroup()
	if err != nil || os.Geteuid() != 0 {
		t.Skipf("no pids cgroup to make children in (root: %v): %v", os.Geteuid() == 0, err)
	}
	// What a server with this pid named its first cgroup before this
	// server's instance part.
	stale := filepath.Join(dir, fmt.Sprintf("execgate-%d-1", os.Getpid()))
	if err := os.Mkdir(stale, 0o755); err != nil {
		t.Skipf("cannot make a cgroup in %s: %v", dir, err)
	}
	defer unix.Rmdir(stale)
	b := &pidsBound{max: 64, cgroup: dir}
	made, err := b.make()
	if err != nil {
		t.Fatalf("a stale cgroup of the same pid stopped this one: %v", err)
	}
	defer unix.Rmdir(made)
	if made == stale {
		t.Fatalf("made %s, the stale cgroup's name", made)
	}
}
