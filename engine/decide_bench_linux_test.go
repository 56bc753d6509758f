package engine

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/testhelp"
	"github.com/execgate/execgate/sandbox"
)

// BenchmarkDecide is the engine's share of one intercepted exec: policy
// evaluation (with the rules' change check), for an allowed git the
// repository trust check, and the decision record. The workspace is a git
// repository outside /tmp, so that git is trusted there.
func BenchmarkDecide(b *testing.B) {
	te := newTestEngine(b, `prefix_rule(pattern=["git", "status"], decision="allow")`+"\n"+
		`prefix_rule(pattern=["cat"], decision="allow")`+"\n", nil)
	ws := testhelp.PrivateDir(b)
	if out, err := exec.Command("git", "init", "-q", ws).CombinedOutput(); err != nil {
		b.Skipf("git init: %v: %s", err, out)
	}
	call := &Call{ID: "b", Decisions: newDecisions("b", nil), Log: testhelp.Logger(nil)}
	spec, _ := te.spec(&Call{Workspace: []string{ws}, Workdir: ws}, testhelp.Logger(nil))
	roots, err := trustRoots(spec)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		ex   escalate.Exec
		want escalate.Action
	}{
		{"unmatched", escalate.Exec{File: "/usr/bin/ls", Argv: []string{"ls", "-l"}, Workdir: ws}, escalate.Run},
		{"allowed-cat", escalate.Exec{File: "/usr/bin/cat", Argv: []string{"cat"}, Workdir: ws}, escalate.Escalate},
		{"allowed-git", escalate.Exec{File: "/usr/bin/git", Argv: []string{"git", "status"}, Workdir: ws}, escalate.Escalate},
	} {
		b.Run(c.name, func(b *testing.B) {
			d := newDecider(call, te.stores.base, te.stores.base.Amend, &te.approvals, &te.warned, roots, false, testhelp.Logger(nil))
			d.repos = repoTrust{reg: te.repos, confined: true, env: te.escEnv.Environ}
			te.repos.Observe(sandbox.Protection{Mode: sandbox.WorkspaceWrite, Enforced: true,
				Roots: []sandbox.Root{{Path: ws, Protected: []string{filepath.Join(ws, ".git")}}}})
			if dec := d.Decide(context.Background(), c.ex); dec.Action != c.want {
				b.Fatalf("%s: %v %s", c.name, dec.Action, dec.Reason)
			}
			for b.Loop() {
				dec := d.Decide(context.Background(), c.ex)
				d.record(escalate.Record{Exec: c.ex, Decision: dec})
			}
		})
	}
}
