package security

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/execgate/execgate/internal/testbash"
	"github.com/execgate/execgate/internal/testbin"
)

// The execve wrapper every program start goes through, and the helpers that
// run before any confinement, live where no sandbox can write them:
// installed beside execgate, or in a private runtime directory. These tests
// check that the rules keep holding when that directory is removed under a
// running server, and that an installed server needs no writable home.

// forbidTouch forbids touch: a call's `touch` creating its file in the
// workspace (a writable root) would mean the exec was never decided.
const forbidTouch = `prefix_rule(pattern=["touch"], decision="forbidden")` + "\n"

// assertDecided runs a call that echoes and touches name in the workspace,
// and fails unless the echo ran and the touch was denied.
func assertDecided(t *testing.T, w *world, name string) {
	t.Helper()
	file := filepath.Join(w.WS, name)
	res := w.shell(t, "/bin/echo hello-"+name+"; touch "+shq(file))
	if !strings.Contains(res.Output, "hello-"+name) {
		t.Errorf("%s: output %q, want the echo", name, res.Output)
	}
	if _, err := os.Lstat(file); err == nil {
		t.Errorf("%s: touch ran although forbidden (output %q, decisions %+v)", name, res.Output, res.Decisions)
	}
	if !slices.ContainsFunc(res.Decisions, func(d decision) bool { return d.Decision == "deny" && strings.HasSuffix(d.Program, "touch") }) {
		t.Errorf("%s: no denial of touch among %+v", name, res.Decisions)
	}
}

// runtimeDirs lists the server runtime directories (run-*) under base.
func runtimeDirs(t *testing.T, base string) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(base, "run-*"))
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// Removing the server's private runtime directory (a user cleaning
// ~/.cache, a logout emptying $XDG_RUNTIME_DIR) does not break later calls
// nor lets them past the rules: the directory is made again, at the same
// place, private to the server's user, with the wrapper back in it.
func TestRuntimeDirRemovedWhileServing(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: forbidTouch})
		assertDecided(t, w, "before")
		dirs := runtimeDirs(t, w.run)
		if len(dirs) != 1 {
			t.Fatalf("runtime directories under %s: %v, want one", w.run, dirs)
		}
		run := dirs[0]
		if err := os.RemoveAll(run); err != nil {
			t.Fatal(err)
		}
		assertDecided(t, w, "after-removal")
		fi, err := os.Stat(run)
		if err != nil {
			t.Fatalf("runtime directory not made again: %v", err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode().Perm() != 0o700 || int(st.Uid) != w.uid() {
			t.Errorf("runtime directory made again as %v owned by %d, want 0700 owned by %d", fi.Mode(), st.Uid, w.uid())
		}
		for _, name := range []string{".live", "codex-execve-wrapper"} {
			if _, err := os.Lstat(filepath.Join(run, name)); err != nil {
				t.Errorf("runtime directory made again without %s: %v", name, err)
			}
		}
		// Only the wrapper this time.
		if err := os.Remove(filepath.Join(run, "codex-execve-wrapper")); err != nil {
			t.Fatal(err)
		}
		assertDecided(t, w, "after-wrapper-removal")
		if !strings.Contains(w.Stderr.String(), "the private runtime directory, or a helper in it, was removed; made it again") {
			t.Errorf("no warning about the removed runtime directory in the server's log:\n%s", w.Stderr)
		}
	})
}

// uid is the uid the world's server runs as.
func (w *world) uid() int {
	if w.User.uid == 0 {
		return os.Geteuid()
	}
	return w.User.uid
}

// installPrefix lays out what `make install PREFIX=...` installs, owned by
// the test's user (root: then uid 65534 can read but not write it):
// bin/execgate, and libexec/execgate with the patched Bash, the sandbox
// launcher and what `execgate install-helpers` puts there.
func installPrefix(t *testing.T) string {
	t.Helper()
	prefix, err := os.MkdirTemp("/var/tmp", "execgate-prefix-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeAll(prefix) })
	libexec := filepath.Join(prefix, "libexec", "execgate")
	for _, d := range []string{prefix, filepath.Join(prefix, "bin"), filepath.Join(prefix, "libexec"), libexec} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(prefix, "bin", "execgate")
	copyFile(t, testbin.Must(t, testbin.Execgate), bin)
	copyFile(t, testbash.Path(t), filepath.Join(libexec, "bash"))
	copyFile(t, filepath.Join(filepath.Dir(testbin.Must(t, testbin.Execgate)), "execgate-nsexec"), filepath.Join(libexec, "execgate-nsexec"))
	if out, err := exec.Command(bin, "install-helpers", libexec).CombinedOutput(); err != nil {
		t.Fatalf("execgate install-helpers: %v\n%s", err, out)
	}
	return prefix
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// An installed execgate serves a user whose HOME cannot be written and who
// has no XDG_RUNTIME_DIR (a container run with -u UID), without flags: the
// patched Bash and the wrapper are used from PREFIX/libexec/execgate, which
// the server does not write (uid 65534 could not), and the rules hold.
func TestInstalledServerWithoutWritableHome(t *testing.T) {
	prefix := installPrefix(t)
	bin := filepath.Join(prefix, "bin", "execgate")
	libexec := filepath.Join(prefix, "libexec", "execgate")
	// /proc: not even root can make ~/.cache there.
	env := []string{"HOME=/proc", "XDG_RUNTIME_DIR=", "EXECGATE_BASH="}
	eachUser(t, func(t *testing.T, u user) {
		before := listDir(t, libexec)
		w := start(t, u, setup{Rules: forbidTouch, Bin: bin, Env: env})
		assertDecided(t, w, "installed")
		if after := listDir(t, libexec); !slices.Equal(before, after) {
			t.Errorf("the server changed %s: %v, then %v", libexec, before, after)
		}
		if strings.Contains(w.Stderr.String(), "runtime directory") {
			t.Errorf("the server looked for a runtime directory:\n%s", w.Stderr)
		}

		// doctor says where the helpers come from.
		cmd := exec.Command(bin, "doctor")
		cmd.Dir = w.WS
		cmd.Env = append([]string{"PATH=/usr/local/bin:/usr/bin:/bin", "CODEX_HOME=" + w.Home, "LANG=C.UTF-8"}, env...)
		if u.uid != os.Geteuid() {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.uid), Gid: uint32(u.uid)}}
		}
		out, err := cmd.CombinedOutput()
		for _, want := range []string{
			"patched Bash:       " + filepath.Join(libexec, "bash") + " (found via install prefix",
			"wrapper directory:  " + libexec + " (installed beside execgate)",
		} {
			if !strings.Contains(string(out), want) {
				t.Errorf("doctor (%v) does not say %q:\n%s", err, want, out)
			}
		}
	})
}

// listDir is dir's entries with their link targets and sizes.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		target, _ := os.Readlink(p)
		out = append(out, e.Name()+" "+target+" "+fi.Mode().String()+" "+fi.ModTime().String())
	}
	return out
}

// An installed wrapper that is not this execgate's (an install left behind
// by an earlier build) is never run: the server updates it where it can
// write the install (root), else makes a private runtime directory and
// says so; either way the rules hold.
func TestInstalledStaleWrapper(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		prefix := installPrefix(t)
		bin := filepath.Join(prefix, "bin", "execgate")
		wrapper := filepath.Join(prefix, "libexec", "execgate", "codex-execve-wrapper")
		if err := os.Remove(wrapper); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("/bin/true", wrapper); err != nil {
			t.Fatal(err)
		}
		w := start(t, u, setup{Rules: forbidTouch, Bin: bin, Env: []string{"EXECGATE_BASH="}})
		assertDecided(t, w, "stale")
		target, _ := os.Readlink(wrapper)
		private := runtimeDirs(t, w.run)
		switch {
		case w.uid() == os.Geteuid():
			// The install is the server user's own: brought up to date
			// (a link to bin/execgate, or the lean wrapper embedded in it).
			if target == "/bin/true" || len(private) != 0 {
				t.Errorf("installed wrapper -> %q, private directories %v; want it updated and none", target, private)
			}
		default:
			if target != "/bin/true" || len(private) != 1 {
				t.Errorf("installed wrapper -> %q, private directories %v; want it untouched and one", target, private)
			}
			if !strings.Contains(w.Stderr.String(), "is not this execgate's and cannot be updated") {
				t.Errorf("no warning about the stale install:\n%s", w.Stderr)
			}
		}
	})
}
