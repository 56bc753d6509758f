package security

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Attacks on an allowed git started in a subdirectory of a trusted
// workspace. git would search for its repository upwards through
// directories the sandbox can write, so the server gives the escalated git
// the repository it checked (GIT_DIR, GIT_WORK_TREE): a .git planted before
// the check is found by the check (git then runs sandboxed), one planted
// after it is never looked at.

// subdirWorld is a trusted workspace (its parent is not writable) holding
// a repository with src/deep, committed, as the user made it before the
// server started.
func subdirWorld(t *testing.T, u user) *world {
	t.Helper()
	rules := gitRules + `prefix_rule(pattern=["git", "rev-parse"], decision="allow")` + "\n"
	return start(t, u, setup{Rules: rules, WorkspaceParent: "/var/tmp", Prepare: func(t *testing.T, w *world) {
		gitAs(t, w, w.WS, "init", "-q")
		gitAs(t, w, w.WS, "config", "user.name", "u")
		gitAs(t, w, w.WS, "config", "user.email", "u@example.com")
		for _, d := range []string{"src", filepath.Join("src", "deep")} {
			mkdirOwned(t, u, filepath.Join(w.WS, d))
		}
		writeOwned(t, u, filepath.Join(w.WS, "top"), "top\n")
		writeOwned(t, u, filepath.Join(w.WS, "src", "f"), "f\n")
		writeOwned(t, u, filepath.Join(w.WS, "src", "deep", "g"), "g\n")
		gitAs(t, w, w.WS, "add", ".")
		gitAs(t, w, w.WS, "commit", "-q", "-m", "user")
	}})
}

// plantRepo is a shell command making dir a repository whose
// core.fsmonitor is a script running payload: git runs it on `git status`.
func plantRepo(dir, payload string) string {
	script := filepath.Join(dir, "fsmonitor.sh")
	return "git init -q " + shq(dir) + " && " + writeScript(script, payload) +
		" && git -C " + shq(dir) + " config core.fsmonitor " + shq(script)
}

// TestRepoTrustSubdirPlantedBefore: the agent makes src/ a repository of
// its own, then runs the allowed git from src/deep: the check finds the
// planted repository, and git runs sandboxed.
func TestRepoTrustSubdirPlantedBefore(t *testing.T) {
	requireGit(t)
	eachUser(t, func(t *testing.T, u user) {
		w := subdirWorld(t, u)
		src := filepath.Join(w.WS, "src")
		res := w.shell(t, plantRepo(src, w.payload("subdir-before"))+" && cd src/deep && git status")
		w.assertConfined(t, "subdir-before", res)
		expectSandboxed(t, res, "status", filepath.Join(src, ".git"))
	})
}

// TestRepoTrustSubdirPlantedDuring: the .git appears between the server's
// check and git's start. The forged request waits for the Escalate answer,
// plants src/.git, and only then hands over its stdio: an escalated git
// searching from src/deep would find it and run its fsmonitor outside the
// sandbox.
func TestRepoTrustSubdirPlantedDuring(t *testing.T) {
	requireGit(t)
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip(err)
	}
	if git, err = filepath.EvalSymlinks(git); err != nil {
		t.Fatal(err)
	}
	eachUser(t, func(t *testing.T, u user) {
		w := subdirWorld(t, u)
		src := filepath.Join(w.WS, "src")
		for _, sub := range []string{"status", "commit"} {
			t.Run(sub, func(t *testing.T) {
				name := "subdir-during-" + sub
				plant := plantRepo(src, w.payload(name))
				if sub == "commit" {
					// A hook of the planted repository, for the commit.
					plant += " && " + writeScript(filepath.Join(src, ".git", "hooks", "pre-commit"), w.payload(name))
				}
				argv := []string{"git", sub}
				if sub == "commit" {
					argv = append(argv, "-q", "--allow-empty", "-m", "agent")
				}
				req := forgedRequest(t, git, argv, filepath.Join(src, "deep"))
				res := w.shell(t, forge(t, "request", req, "sh", "-c", plant+" && echo planted")+"; rm -rf "+shq(filepath.Join(src, ".git")))
				if !strings.Contains(res.Output, `answer: {"action":"Escalate"}`) || !strings.Contains(res.Output, "planted") {
					t.Fatalf("the race was not set up (git must escalate, the plant must succeed): %s", res.Output)
				}
				w.assertConfined(t, name, res)
				d, ok := gitDecision(res, sub)
				if !ok || d.Decision != "escalate" || !strings.Contains(d.Reason, "GIT_DIR") {
					t.Errorf("git %s: %+v, want escalated with the repository given", sub, d)
				}
			})
		}
	})
}

// TestRepoTrustSubdirEscalatesLikePlainGit is the positive control: from a
// subdirectory of the user's trusted workspace, git status and git commit
// escalate and behave as the same git run there directly: the same output,
// paths relative to where it ran, the commit in the user's repository.
func TestRepoTrustSubdirEscalatesLikePlainGit(t *testing.T) {
	requireGit(t)
	eachUser(t, func(t *testing.T, u user) {
		w := subdirWorld(t, u)
		deep := filepath.Join(w.WS, "src", "deep")
		writeOwned(t, u, filepath.Join(w.WS, "src", "f"), "changed\n")
		writeOwned(t, u, filepath.Join(deep, "new"), "new\n")

		for _, args := range [][]string{
			{"status"},
			{"status", "--short"},
			{"rev-parse", "--show-toplevel", "--show-prefix", "--git-dir", "--is-inside-work-tree"},
		} {
			want := gitOut(t, w, deep, args...)
			res := w.shellIn(t, deep, "git "+strings.Join(args, " "))
			expectEscalatedWithRepo(t, res, args[0])
			if res.Output != want {
				t.Errorf("git %v from a subdirectory: escalated output\n%s\nplain git's\n%s", args, res.Output, want)
			}
		}

		res := w.shellIn(t, deep, "git commit -q -m agent ../f && echo committed")
		expectEscalatedWithRepo(t, res, "commit")
		if !strings.Contains(res.Output, "committed") {
			t.Fatalf("escalated git commit failed: %s", res.Output)
		}
		if got := gitOut(t, w, w.WS, "show", "--name-only", "--format=%s", "HEAD"); got != "agent\n\nsrc/f\n" {
			t.Errorf("the commit made from src/deep holds %q, want the message and src/f", got)
		}
		if got := gitOut(t, w, deep, "status", "--short"); got != "?? new\n" {
			t.Errorf("after the commit, git status --short in src/deep: %q", got)
		}
	})
}

// expectEscalatedWithRepo checks that git SUB escalated, given the
// repository it was checked in.
func expectEscalatedWithRepo(t *testing.T, res shellResult, sub string) {
	t.Helper()
	d, ok := gitDecision(res, sub)
	if !ok || d.Decision != "escalate" || !strings.Contains(d.Reason, "kept read-only since execgate started") || !strings.Contains(d.Reason, "GIT_DIR") {
		t.Errorf("git %s: %+v (found %v), want escalated with the repository given\noutput: %s", sub, d, ok, res.Output)
	}
}

// gitOut runs git as the world's user in dir, with the server's HOME and
// locale, and returns its output.
func gitOut(t *testing.T, w *world, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + w.Home, "LANG=C.UTF-8"}
	if w.User.uid != os.Geteuid() {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(w.User.uid), Gid: uint32(w.User.uid)}}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v in %s as %s: %v\n%s", args, dir, w.User.name, err, out)
	}
	return string(out)
}
