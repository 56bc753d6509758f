package security

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/execgate/execgate/internal/testbin"
)

// Multi-call programs (busybox, git's dashed forms) choose what to do by
// argv[0]. A rule allows a program by the path the shell execs; argv[0] is
// the script's to choose (`exec -a`), so an escalated program must not get
// it: it gets the name the rule matched.

// TestArgv0ChoosesMultiCallMode: a rule allows multicall (a trusted program
// that, run as "evil", runs its argument); `exec -a evil multicall PAYLOAD`
// must run multicall as multicall.
func TestArgv0ChoosesMultiCallMode(t *testing.T) {
	for _, mode := range []string{"workspace-write", "read-only"} {
		t.Run(mode, func(t *testing.T) {
			eachUser(t, func(t *testing.T, u user) {
				var prog string
				w := start(t, u, setup{
					Rules: `prefix_rule(pattern=["multicall"], decision="allow")` + "\n",
					Args:  []string{"--sandbox", mode},
					Prepare: func(t *testing.T, w *world) {
						prog = installProgram(t, w, testbin.Must(t, "github.com/execgate/execgate/security/internal/multicall"))
					},
				})
				res := w.shell(t, "(exec -a evil "+shq(prog)+" "+shq(w.payload("multicall"))+")")
				w.assertConfined(t, "multicall", res)
				d := escalated(t, res)
				if d.Argv[0] != "multicall" || d.Executable != prog || !strings.Contains(res.Output, "harmless, run as multicall") {
					t.Errorf("escalated multicall ran with argv[0] %q (executable %q), want multicall; output %q", d.Argv[0], d.Executable, res.Output)
				}
			})
		})
	}
}

// installProgram copies bin into a directory of w that no sandbox can write
// (beside Home), executable by w's user, and returns its path.
func installProgram(t *testing.T, w *world, bin string) string {
	t.Helper()
	dir := filepath.Join(filepath.Dir(w.Home), "bin")
	mkdirOwned(t, w.User, dir)
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, filepath.Base(bin))
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

const gitStatusRules = `prefix_rule(pattern=["git", "status"], decision="allow")
prefix_rule(pattern=["git", "push"], decision="forbidden")
`

// TestArgv0ChoosesGitArchive: `exec -a git-archive git status
// --remote=/x --exec=CMD` would make an escalated git run CMD. (Repository
// trust now also refuses --exec; either must stop it.)
func TestArgv0ChoosesGitArchive(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: gitStatusRules})
		cmd := "(exec -a git-archive git status --remote=/x " + shq("--exec="+w.payload("archive")+"; exit 1 #") + ")"
		res := w.shellIn(t, w.Out, cmd)
		w.assertConfined(t, "archive", res)
	})
}

// TestArgv0ChoosesForbiddenGitPush: `exec -a git-push git status` would run
// git push, which a rule forbids, under the allow rule for git status. Run
// where git may escalate (no sandbox can write its working directory): the
// escalated git gets argv[0] git and runs git status.
func TestArgv0ChoosesForbiddenGitPush(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: gitStatusRules})
		res := w.shellIn(t, w.Out, "(exec -a git-push git status origin 2>&1); echo rc=$?")
		if strings.Contains(res.Output, "remote end hung up") || strings.Contains(res.Output, "does not appear to be a git repository") {
			t.Errorf("the escalated git ran as git push: %q", res.Output)
		}
		if d := escalated(t, res); d.Argv[0] != "git" {
			t.Errorf("escalated git got argv[0] %q, want git: %+v", d.Argv[0], d)
		}
	})
}

// escalated returns the decision of the call's escalated exec.
func escalated(t *testing.T, res shellResult) decision {
	t.Helper()
	i := slices.IndexFunc(res.Decisions, func(d decision) bool { return d.Decision == "escalate" })
	if i < 0 {
		t.Fatalf("no exec was escalated: output %q decisions %+v", res.Output, res.Decisions)
	}
	return res.Decisions[i]
}
