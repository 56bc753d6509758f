package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mountSyscalls says, for each syscall of the new mount API the sandbox
// uses, whether the call that runs it gets ENOSYS: open_tree (with no
// flags, any user may) and mount_setattr (with a size of 0, EINVAL
// otherwise). The numbers are the same on every architecture.
const mountSyscalls = `/usr/bin/python3 -c '
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
for name, nr in (("open_tree", 428), ("mount_setattr", 442)):
    ctypes.set_errno(0)
    r = libc.syscall(nr, -100, b"/", 0, None, 0)
    print(name, "ENOSYS" if r < 0 and ctypes.get_errno() == errno.ENOSYS else "present")
'`

// TestReadOnlyOutsideWithoutNewMountAPI: on a kernel without the new mount
// API (no open_tree nor mount_setattr, as before Linux 5.2; or no
// mount_setattr, as before 5.12), or in a container that refuses it, the
// sandbox makes its mounts with mount(2) alone and must keep what it keeps
// with the new API: outside the writable roots, files can be neither
// written nor changed in their attributes (EROFS), the workspace's .git is
// read-only, and the workspace is writable.
func TestReadOnlyOutsideWithoutNewMountAPI(t *testing.T) {
	for _, kernel := range []struct {
		name   string
		s      setup
		enosys string // mountSyscalls' output
	}{
		{"no open_tree", setup{OldMountAPI: true}, "open_tree ENOSYS\nmount_setattr ENOSYS\n"},
		{"no mount_setattr", setup{NoMountSetattr: true}, "open_tree present\nmount_setattr ENOSYS\n"},
	} {
		t.Run(kernel.name, func(t *testing.T) {
			eachUser(t, func(t *testing.T, u user) {
				s := kernel.s
				s.Prepare = func(t *testing.T, w *world) {
					mkdirOwned(t, u, filepath.Join(w.WS, ".git"))
					writeOwned(t, u, filepath.Join(w.WS, ".git", "config"), "[core]\n")
				}
				w := start(t, u, s)
				// The call's processes have the server's filter, and so
				// had the helper that made the call's mounts before it.
				if res := w.shell(t, mountSyscalls); res.Output != kernel.enosys {
					t.Fatalf("the call does not run where the kernel lacks the mount API: %q, want %q", res.Output, kernel.enosys)
				}

				attributesStayReadOnly(t, w, w.Out)
				outside := victim(t, w, w.Out, "written")
				res := w.shell(t, "echo evil >> "+shq(outside)+"; echo append=$?; echo evil > "+shq(filepath.Join(w.Out, "new"))+"; echo create=$?")
				if b, err := os.ReadFile(outside); err != nil || string(b) != "data\n" {
					t.Errorf("ATTACK write outside the writable roots SUCCEEDED as %s: %q (%v); output: %s", u.name, b, err, res.Output)
				}
				if _, err := os.Lstat(filepath.Join(w.Out, "new")); err == nil {
					t.Errorf("ATTACK create outside the writable roots SUCCEEDED as %s; output: %s", u.name, res.Output)
				}
				if strings.Contains(res.Output, "=0") || !strings.Contains(res.Output, "append=1") || !strings.Contains(res.Output, "create=1") {
					t.Errorf("writes outside the writable roots as %s: want both refused; output: %s", u.name, res.Output)
				}

				git := filepath.Join(w.WS, ".git")
				res = w.shell(t, "echo '[core] fsmonitor = evil' >> .git/config; echo append=$?; touch .git/hook; echo create=$?; chmod 777 .git/config; echo chmod=$?")
				if b, err := os.ReadFile(filepath.Join(git, "config")); err != nil || string(b) != "[core]\n" {
					t.Errorf("ATTACK write .git/config SUCCEEDED as %s: %q (%v); output: %s", u.name, b, err, res.Output)
				}
				if _, err := os.Lstat(filepath.Join(git, "hook")); err == nil {
					t.Errorf("ATTACK create in .git SUCCEEDED as %s; output: %s", u.name, res.Output)
				}
				if fi, err := os.Stat(filepath.Join(git, "config")); err != nil || fi.Mode().Perm() != 0o644 {
					t.Errorf("ATTACK chmod .git/config SUCCEEDED as %s: %v (%v); output: %s", u.name, fi.Mode(), err, res.Output)
				}
				for _, want := range []string{"append=1", "create=1", "chmod=1", "Read-only file system"} {
					if !strings.Contains(res.Output, want) {
						t.Errorf(".git as %s: want %q (refused by a read-only mount) in: %s", u.name, want, res.Output)
					}
				}

				attributesStayWritable(t, w)
			})
		})
	}
}
