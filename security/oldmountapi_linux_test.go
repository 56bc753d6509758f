package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
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

// TestReadOnlyOutsideOnEveryMountAPI: on a kernel without the new mount
// API (none of it, as before Linux 5.2; or no mount_setattr, as before
// 5.12), as in a container that refuses it, the sandbox makes its mounts
// with mount(2) and must keep what it keeps with the new API (the first
// case): outside the writable roots, files can be neither written nor
// changed in their attributes (EROFS), the workspace's .git is read-only,
// the workspace is writable, and a mount made read-only keeps its other
// flags (nosymfollow: a symlink there is still not followed).
func TestReadOnlyOutsideOnEveryMountAPI(t *testing.T) {
	noSymFollow := noSymFollowMount(t)
	for _, kernel := range []struct {
		name   string
		s      setup
		enosys string // mountSyscalls' output
	}{
		{"new mount API", setup{}, "open_tree present\nmount_setattr present\n"},
		{"no new mount API", setup{OldMountAPI: true}, "open_tree ENOSYS\nmount_setattr ENOSYS\n"},
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

				if noSymFollow != "" {
					res := w.shell(t, "cat "+shq(filepath.Join(noSymFollow, "link"))+"; echo status=$?")
					if strings.Contains(res.Output, "target") || !strings.Contains(res.Output, "Too many levels of symbolic links") {
						t.Errorf("a symlink on a nosymfollow mount was followed as %s: %q", u.name, res.Output)
					}
				}
			})
		})
	}
}

// noSymFollowMount mounts, for the test, a tmpfs with nosymfollow holding
// the symlink link to the file target beside it, and returns where ("" if
// it cannot: not root, or a kernel before 5.10).
func noSymFollowMount(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Log("not root: no nosymfollow mount to check")
		return ""
	}
	dir, err := os.MkdirTemp("/var/tmp", "execgate-sec-nosymfollow-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	if err := unix.Mount("execgate-test", dir, "tmpfs", unix.MS_NOSYMFOLLOW, "size=64k,mode=0755"); err != nil {
		t.Logf("no nosymfollow mount here: %v", err)
		return ""
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	if err := os.WriteFile(filepath.Join(dir, "target"), []byte("target\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("target", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadFile(filepath.Join(dir, "link")); err == nil {
		t.Fatal("nosymfollow does not hold outside the sandbox")
	}
	return dir
}
