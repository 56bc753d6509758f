package security

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Attacks on repository trust: an allow rule for a git subcommand must not
// run, outside the sandbox, hooks or configuration the agent wrote. Each
// attack plants a payload where git would run it (core.fsmonitor, a hook)
// in a repository the sandbox could write, then runs the allowed git.

const gitRules = `prefix_rule(pattern=["git", ["status", "commit"]], decision="allow")` + "\n"

// TestRepoTrustNestedRepoFsmonitor: a repository created inside the
// workspace, with core.fsmonitor set to the payload.
func TestRepoTrustNestedRepoFsmonitor(t *testing.T) {
	requireGit(t)
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: gitRules})
		sub := filepath.Join(w.WS, "sub")
		script := filepath.Join(sub, "fsmonitor.sh")
		res := w.shell(t, "mkdir sub && cd sub && git init -q && "+writeScript(script, w.payload("nested"))+
			" && git config core.fsmonitor "+shq(script)+" && git status")
		w.assertConfined(t, "nested", res)
		expectSandboxed(t, res, "status", filepath.Join(sub, ".git"))
	})
}

// TestRepoTrustReplacedWorkspace: one call renames the workspace away (its
// parent is writable: the default /tmp root) and makes a new one with a
// planted repository; the next call's allowed git runs in it.
func TestRepoTrustReplacedWorkspace(t *testing.T) {
	requireGit(t)
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: gitRules, Prepare: func(t *testing.T, w *world) {
			// The workspace's parent, writable by the user as /tmp is.
			chown(t, u, filepath.Dir(w.WS))
		}})
		fsmon := filepath.Join(w.WS, ".git", "fsmonitor.sh")
		hook := filepath.Join(w.WS, ".git", "hooks", "pre-commit")
		res := w.shell(t, "cd .. && mv ws ws.old && mkdir ws && cd ws && git init -q && "+
			writeScript(fsmon, w.payload("replaced-fsmonitor"))+" && "+writeScript(hook, w.payload("replaced-hook"))+
			" && git config core.fsmonitor "+shq(fsmon)+" && git config user.name a && git config user.email a@example.com && echo planted")
		if !strings.Contains(res.Output, "planted") {
			t.Fatalf("could not replace the workspace: %s", res.Output)
		}
		res = w.shell(t, "git status; git commit -q --allow-empty -m x")
		w.assertConfined(t, "replaced-fsmonitor", res)
		w.assertConfined(t, "replaced-hook", res)
		expectSandboxed(t, res, "status", filepath.Join(w.WS, ".git"))
		expectSandboxed(t, res, "commit", filepath.Join(w.WS, ".git"))
	})
}

// TestRepoTrustGitfileElsewhere: a directory whose .git file points to a
// repository the sandbox made in another writable root (/tmp).
func TestRepoTrustGitfileElsewhere(t *testing.T) {
	requireGit(t)
	eachUser(t, func(t *testing.T, u user) {
		var evil string
		w := start(t, u, setup{Rules: gitRules, WorkspaceParent: "/var/tmp", Prepare: func(t *testing.T, w *world) {
			evil = userDir(t, u, os.TempDir(), "evil")
		}})
		script := filepath.Join(evil, "fsmonitor.sh")
		res := w.shell(t, "git init -q "+shq(evil)+" && "+writeScript(script, w.payload("gitfile"))+
			" && git -C "+shq(evil)+" config core.fsmonitor "+shq(script)+
			" && mkdir wt && printf 'gitdir: %s\\n' "+shq(filepath.Join(evil, ".git"))+" > wt/.git && cd wt && git status")
		w.assertConfined(t, "gitfile", res)
		expectSandboxed(t, res, "status", filepath.Join(evil, ".git"))
	})
}

// TestRepoTrustHooksPathInWorkTree: the user's repository keeps its hooks
// in the work tree (core.hooksPath, as husky sets it); the agent writes a
// hook there and runs the allowed git commit.
func TestRepoTrustHooksPathInWorkTree(t *testing.T) {
	requireGit(t)
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: gitRules, WorkspaceParent: "/var/tmp", Prepare: func(t *testing.T, w *world) {
			gitAs(t, w, w.WS, "init", "-q")
			gitAs(t, w, w.WS, "config", "user.name", "u")
			gitAs(t, w, w.WS, "config", "user.email", "u@example.com")
			gitAs(t, w, w.WS, "config", "core.hooksPath", ".githooks")
		}})
		hook := filepath.Join(w.WS, ".githooks", "pre-commit")
		res := w.shell(t, "mkdir -p .githooks && "+writeScript(hook, w.payload("hookspath"))+" && git commit -q --allow-empty -m x")
		w.assertConfined(t, "hookspath", res)
		expectSandboxed(t, res, "commit", "hooks directory "+filepath.Join(w.WS, ".githooks"))
	})
}

// TestRepoTrustSymlinkedHook: the user's hook is a symlink to a script in
// the work tree; the agent rewrites the script.
func TestRepoTrustSymlinkedHook(t *testing.T) {
	requireGit(t)
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: gitRules, WorkspaceParent: "/var/tmp", Prepare: func(t *testing.T, w *world) {
			gitAs(t, w, w.WS, "init", "-q")
			gitAs(t, w, w.WS, "config", "user.name", "u")
			gitAs(t, w, w.WS, "config", "user.email", "u@example.com")
			script := filepath.Join(w.WS, "pre-commit.sh")
			writeOwned(t, u, script, "#!/bin/sh\n")
			if err := os.Chmod(script, 0o755); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(w.WS, ".git", "hooks", "pre-commit")
			if err := os.Symlink("../../pre-commit.sh", link); err != nil {
				t.Fatal(err)
			}
			chown(t, u, link)
		}})
		res := w.shell(t, writeScript(filepath.Join(w.WS, "pre-commit.sh"), w.payload("symlinked-hook"))+" && git commit -q --allow-empty -m x")
		w.assertConfined(t, "symlinked-hook", res)
		expectSandboxed(t, res, "commit", "is a symlink to "+filepath.Join(w.WS, "pre-commit.sh"))
	})
}

// TestRepoTrustPushToPlantedRepository: in the user's own (trusted)
// repository, the allowed git push goes to a repository the sandbox made on
// this machine, whose pre-receive hook git runs locally.
func TestRepoTrustPushToPlantedRepository(t *testing.T) {
	requireGit(t)
	eachUser(t, func(t *testing.T, u user) {
		var evil string
		w := start(t, u, setup{Rules: `prefix_rule(pattern=["git", "push"], decision="allow")` + "\n", WorkspaceParent: "/var/tmp",
			Prepare: func(t *testing.T, w *world) {
				gitAs(t, w, w.WS, "init", "-q")
				gitAs(t, w, w.WS, "commit", "-q", "--allow-empty", "-m", "x")
				evil = userDir(t, u, os.TempDir(), "evil")
			}})
		hook := filepath.Join(evil, "r.git", "hooks", "pre-receive")
		res := w.shell(t, "git init -q --bare "+shq(filepath.Join(evil, "r.git"))+" && "+writeScript(hook, w.payload("push"))+
			" && git push -q "+shq(filepath.Join(evil, "r.git"))+" HEAD:refs/heads/x")
		w.assertConfined(t, "push", res)
		expectSandboxed(t, res, "push", filepath.Join(evil, "r.git"))
	})
}

// TestRepoTrustTrustedWorkspaceEscalates is the positive control: in the
// user's own repository, whose .git the sandbox has kept read-only since
// the server started, the allowed git escalates, and so runs the user's own
// hook outside the sandbox.
func TestRepoTrustTrustedWorkspaceEscalates(t *testing.T) {
	requireGit(t)
	eachUser(t, func(t *testing.T, u user) {
		var hookPayload string
		w := start(t, u, setup{Rules: gitRules, WorkspaceParent: "/var/tmp", Prepare: func(t *testing.T, w *world) {
			gitAs(t, w, w.WS, "init", "-q")
			gitAs(t, w, w.WS, "config", "user.name", "u")
			gitAs(t, w, w.WS, "config", "user.email", "u@example.com")
			hook := filepath.Join(w.WS, ".git", "hooks", "post-commit")
			hookPayload = w.payload("users-hook")
			writeOwned(t, u, hook, "#!/bin/sh\n"+hookPayload+"\n")
			if err := os.Chmod(hook, 0o755); err != nil {
				t.Fatal(err)
			}
		}})
		res := w.shell(t, "git status --short && git commit -q --allow-empty -m agent && echo committed")
		for _, sub := range []string{"status", "commit"} {
			d, ok := gitDecision(res, sub)
			if !ok || d.Decision != "escalate" || !strings.Contains(d.Reason, "kept read-only since execgate started") {
				t.Errorf("git %s: %+v (found %v), want escalated in a trusted repository\noutput: %s", sub, d, ok, res.Output)
			}
		}
		if !strings.Contains(res.Output, "committed") || !w.escaped("users-hook") {
			t.Errorf("the escalated git commit did not run the user's hook outside the sandbox (exit %d): %s", res.ExitCode, res.Output)
		}
	})
}

// gitDecision finds the decision about git SUB in a call's result.
func gitDecision(res shellResult, sub string) (decision, bool) {
	for _, d := range res.Decisions {
		if filepath.Base(d.Program) == "git" && len(d.Argv) > 1 && d.Argv[1] == sub {
			return d, true
		}
	}
	return decision{}, false
}

// expectSandboxed checks that the allowed git SUB ran inside the sandbox,
// that its decision record says why (naming want), and that the command's
// stderr said so.
func expectSandboxed(t *testing.T, res shellResult, sub, want string) {
	t.Helper()
	d, ok := gitDecision(res, sub)
	switch {
	case !ok:
		t.Errorf("no decision for git %s: %+v\noutput: %s", sub, res.Decisions, res.Output)
	case d.Decision != "run" || !strings.Contains(d.Reason, "runs inside the sandbox") || !strings.Contains(d.Reason, want):
		t.Errorf("git %s: decision %q, reason %q; want run, saying it runs inside the sandbox because of %s", sub, d.Decision, d.Reason, want)
	}
	if !strings.Contains(res.Output, "execgate: git runs inside the sandbox, not outside it: ") {
		t.Errorf("the command's stderr does not say why git ran sandboxed: %s", res.Output)
	}
}

// writeScript is a shell command writing an executable script at path
// that runs payload.
func writeScript(path, payload string) string {
	return "printf '#!/bin/sh\\n%s\\n' " + shq(payload) + " > " + shq(path) + " && chmod +x " + shq(path)
}

// gitAs runs git as the world's user in dir, before the server starts.
func gitAs(t *testing.T, w *world, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + w.Home,
		"GIT_AUTHOR_NAME=u", "GIT_AUTHOR_EMAIL=u@example.com", "GIT_COMMITTER_NAME=u", "GIT_COMMITTER_EMAIL=u@example.com"}
	if w.User.uid != os.Geteuid() {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(w.User.uid), Gid: uint32(w.User.uid)}}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v as %s: %v\n%s", args, w.User.name, err, out)
	}
}

func requireGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
}
