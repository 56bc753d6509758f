package security

import (
	"slices"
	"strings"
	"testing"
)

// git dispatches on argv[0]: run as git-archive or git-push it is that
// command, whatever argv[1] says. A rule for `git status` must not run
// another git command because the script chose argv[0] (`exec -a`).

const gitStatusRules = `prefix_rule(pattern=["git", "status"], decision="allow")
prefix_rule(pattern=["git", "push"], decision="forbidden")
`

// TestArgv0ChoosesGitArchive: `exec -a git-archive git status
// --remote=/x --exec=CMD` makes git run CMD, outside the sandbox if the
// escalated git got the script's argv[0]. Also in read-only mode.
func TestArgv0ChoosesGitArchive(t *testing.T) {
	for _, mode := range []string{"workspace-write", "read-only"} {
		t.Run(mode, func(t *testing.T) {
			eachUser(t, func(t *testing.T, u user) {
				w := start(t, u, setup{Rules: gitStatusRules, Args: []string{"--sandbox", mode}})
				cmd := "(exec -a git-archive git status --remote=/x " + shq("--exec="+w.payload("archive")+"; exit 1 #") + ")"
				res := w.shell(t, cmd)
				w.assertConfined(t, "archive", res)
				// The rule still applies: git status ran outside the
				// sandbox, as git status.
				d := escalatedGit(t, res)
				if d.Argv[0] != "git" {
					t.Errorf("escalated git got argv[0] %q, want git (the name the rule matched); decision %+v", d.Argv[0], d)
				}
			})
		})
	}
}

// TestArgv0ChoosesForbiddenGitPush: `exec -a git-push git status` would run
// git push, which an admin rule forbids, under the allow rule for git status.
func TestArgv0ChoosesForbiddenGitPush(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: gitStatusRules})
		res := w.shell(t, "(exec -a git-push git status origin 2>&1); echo rc=$?")
		if strings.Contains(res.Output, "remote end hung up") || strings.Contains(res.Output, "does not appear to be a git repository") {
			t.Errorf("the escalated git ran as git push: %q", res.Output)
		}
		if !strings.Contains(res.Output, "not a git repository") {
			t.Errorf("the escalated git did not run as git status: %q", res.Output)
		}
		escalatedGit(t, res)
	})
}

// escalatedGit returns the decision of the call's escalated git.
func escalatedGit(t *testing.T, res shellResult) decision {
	t.Helper()
	i := slices.IndexFunc(res.Decisions, func(d decision) bool { return d.Decision == "escalate" })
	if i < 0 {
		t.Fatalf("no exec was escalated: output %q decisions %+v", res.Output, res.Decisions)
	}
	return res.Decisions[i]
}
