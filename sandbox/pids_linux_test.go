package sandbox

import (
	"strings"
	"testing"
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
	if got := unescapeMount(`/a\040b\134c`); got != `/a b\c` {
		t.Errorf("unescapeMount = %q", got)
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
