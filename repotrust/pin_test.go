package repotrust

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// From a subdirectory of a trusted work tree, git is trusted only when it
// can be given the repository it would find (GIT_DIR, GIT_WORK_TREE), and
// only where that changes nothing else about what git does.
func TestCheckPin(t *testing.T) {
	l := newLayout(t)
	deep := filepath.Join(l.ws, "src", "deep")
	mkdirs(t, deep)
	r := l.registry(t, DefaultPrograms(), protection(l.ws, l.tmp))
	want := Pin{GitDir: filepath.Join(l.ws, ".git"), WorkTree: l.ws}

	pinned := func(t *testing.T, v Verdict) {
		t.Helper()
		expect(t, v, true)
		if v.Pin == nil || *v.Pin != want {
			t.Errorf("pin %+v, want %+v", v.Pin, want)
		}
	}
	t.Run("status and commit from a subdirectory", func(t *testing.T) {
		pinned(t, r.Check(gitExec(deep, l.env(), "status")))
		pinned(t, r.Check(gitExec(deep, l.env(), "commit", "-m", "x")))
		pinned(t, r.Check(gitExec(l.ws, l.env(), "-C", "src/deep", "log")))
	})
	t.Run("the pin makes git agree with its own search", func(t *testing.T) {
		pin := r.Check(gitExec(deep, l.env(), "status")).Pin
		for _, args := range [][]string{
			{"rev-parse", "--show-toplevel", "--show-prefix", "--git-dir", "--is-inside-work-tree"},
			{"status", "--porcelain=v1", "--untracked-files=all"},
		} {
			writeFile(t, filepath.Join(deep, "new"), "x")
			plain := runGit(t, l.home, deep, args...)
			given, err := tryGit(l.home, deep, pin.Env(), args...)
			if err != nil || given != plain {
				t.Errorf("git %v: %q (%v) with the pin, %q without", args, given, err, plain)
			}
		}
	})
	t.Run("commands that do not work in their repository", func(t *testing.T) {
		for _, sub := range []string{"init", "clone"} {
			expect(t, r.Check(gitExec(deep, l.env(), sub, "x")), false, "git looks for a repository in "+deep, "git "+sub+" does not work in the repository")
		}
	})
	t.Run("GIT_WORK_TREE of the server", func(t *testing.T) {
		env := l.env("GIT_WORK_TREE=" + l.ws)
		r := NewRegistry(DefaultPrograms(), env)
		r.Observe(protection(l.ws))
		expect(t, r.Check(gitExec(deep, env, "status")), false, "GIT_WORK_TREE is set in execgate's environment")
	})
	t.Run("configuration that decides the work tree", func(t *testing.T) {
		for _, kv := range [][2]string{{"core.worktree", l.ws}, {"core.bare", "true"}} {
			runGit(t, l.home, l.ws, "config", kv[0], kv[1])
			expect(t, r.Check(gitExec(deep, l.env(), "status")), false, "sets "+kv[0])
			runGit(t, l.home, l.outside, "config", "--file", filepath.Join(l.ws, ".git", "config"), "--unset", kv[0])
		}
		pinned(t, r.Check(gitExec(deep, l.env(), "status")))
	})
	t.Run("no repository to give", func(t *testing.T) {
		bare := filepath.Join(l.tmp, "plain", "sub")
		mkdirs(t, bare)
		// The server's ceiling keeps the search inside tmp.
		env := l.env("GIT_CEILING_DIRECTORIES=" + l.tmp)
		r := NewRegistry(DefaultPrograms(), env)
		r.Observe(protection(l.tmp))
		expect(t, r.Check(gitExec(bare, env, "status")), false, "no repository was found")
	})
	t.Run("a repository that is not the user's", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root to give the work tree away")
		}
		if err := os.Chown(l.ws, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		defer os.Chown(l.ws, 0, 0)
		expect(t, r.Check(gitExec(deep, l.env(), "status")), false, l.ws+" belongs to uid 65534")
		// git itself refuses it where it finds it.
		if out, err := tryGit(l.home, deep, nil, "status"); err == nil || !strings.Contains(out, "dubious ownership") {
			t.Errorf("git status in a repository of uid 65534: %v %s", err, out)
		}
	})
}
