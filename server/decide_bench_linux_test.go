package server

import (
	"context"
	"testing"

	"github.com/execgate/execgate/escalate"
)

// BenchmarkDecide is the engine's share of one intercepted exec: policy
// evaluation (with the rules' change check) and the decision record.
func BenchmarkDecide(b *testing.B) {
	te := newTestEngine(b, `prefix_rule(pattern=["git", "status"], decision="allow")`+"\n", nil)
	ws := b.TempDir()
	call := &Call{ID: "b", Decisions: NewDecisions("b", nil), Log: testLogger(nil)}
	roots, err := trustRoots(te.spec(&Call{Workspace: []string{ws}, Workdir: ws}, testLogger(nil)))
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		ex   escalate.Exec
	}{
		{"unmatched", escalate.Exec{File: "/usr/bin/ls", Argv: []string{"ls", "-l"}, Workdir: ws}},
		{"allowed", escalate.Exec{File: "/usr/bin/git", Argv: []string{"git", "status"}, Workdir: ws}},
	} {
		b.Run(c.name, func(b *testing.B) {
			d := newDecider(call, te.stores.base, te.stores.base.Amend, &te.approvals, &te.warned, roots, false, testLogger(nil))
			for b.Loop() {
				dec := d.Decide(context.Background(), c.ex)
				d.record(escalate.Record{Exec: c.ex, Decision: dec})
			}
		})
	}
}
