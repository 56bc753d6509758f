package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/policy"
)

// answering is a Prompter that gives one answer and counts the prompts.
type answering struct {
	answer PromptAnswer
	asked  []PromptRequest
}

func (a *answering) Prompt(_ context.Context, req PromptRequest) (PromptAnswer, error) {
	a.asked = append(a.asked, req)
	return a.answer, nil
}

// Where the sandbox cannot keep .git read-only, an allowed git asks before
// it escalates: hooks and config the agent planted would run outside.
func TestDeciderUnprotectedGit(t *testing.T) {
	dir := t.TempDir()
	// A program named otherwise that is git once resolved.
	helper := filepath.Join(dir, "git-helper")
	writeFile(t, helper, "")
	alias := filepath.Join(dir, "vcs")
	if err := os.Symlink(helper, alias); err != nil {
		t.Fatal(err)
	}
	rules := filepath.Join(dir, "t.rules")
	writeFile(t, rules, `prefix_rule(pattern=["/usr/bin/git", "status"], decision="allow")
prefix_rule(pattern=["/usr/bin/ls"], decision="allow")
prefix_rule(pattern=["`+alias+`"], decision="allow")
`)
	store, err := policy.NewStore(context.Background(), func() ([]string, error) { return []string{rules}, nil }, policy.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gitStatus := escalate.Exec{File: "/usr/bin/git", Argv: []string{"git", "status"}, Workdir: "/"}
	ls := escalate.Exec{File: "/usr/bin/ls", Argv: []string{"ls"}, Workdir: "/"}
	vcs := escalate.Exec{File: alias, Argv: []string{"vcs"}, Workdir: "/"}
	tests := []struct {
		name        string
		unprotected bool
		prompter    *answering // nil: the client cannot prompt
		execs       []escalate.Exec
		want        []escalate.Action
		asked       int
		reason      string // in the last decision's reason
	}{
		{name: "protected: no question", execs: []escalate.Exec{gitStatus},
			want: []escalate.Action{escalate.Escalate}},
		{name: "unprotected, approved once", unprotected: true, prompter: &answering{answer: PromptAnswer{Answer: AllowOnce}},
			execs: []escalate.Exec{gitStatus, gitStatus}, want: []escalate.Action{escalate.Escalate, escalate.Escalate}, asked: 2, reason: "user approved"},
		{name: "unprotected, always allow asks once", unprotected: true, prompter: &answering{answer: PromptAnswer{Answer: AlwaysAllow}},
			execs: []escalate.Exec{gitStatus, gitStatus}, want: []escalate.Action{escalate.Escalate, escalate.Escalate}, asked: 1, reason: "approved earlier"},
		{name: "unprotected, declined", unprotected: true, prompter: &answering{answer: PromptAnswer{Answer: Deny, Reason: "no thanks"}},
			execs: []escalate.Exec{gitStatus}, want: []escalate.Action{escalate.Deny}, asked: 1, reason: "no thanks (an allow rule covers this git command"},
		{name: "unprotected, no way to ask", unprotected: true,
			execs: []escalate.Exec{gitStatus}, want: []escalate.Action{escalate.Deny}, reason: "user namespaces"},
		{name: "unprotected, not git", unprotected: true, prompter: &answering{answer: PromptAnswer{Answer: Deny}},
			execs: []escalate.Exec{ls}, want: []escalate.Action{escalate.Escalate}},
		{name: "unprotected, git under another name", unprotected: true, prompter: &answering{answer: PromptAnswer{Answer: Deny}},
			execs: []escalate.Exec{vcs}, want: []escalate.Action{escalate.Deny}, asked: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := &Call{Decisions: NewDecisions("t", nil)}
			if tt.prompter != nil {
				call.Prompter = tt.prompter
			}
			d := newDecider(call, store, store.Amend, &approvals{}, &onceSet{}, nil, false, testLogger(nil))
			d.unprotected = tt.unprotected
			var last escalate.Decision
			for i, ex := range tt.execs {
				last = d.Decide(context.Background(), ex)
				if last.Action != tt.want[i] {
					t.Errorf("exec %d: %v (%s), want %v", i, last.Action, last.Reason, tt.want[i])
				}
				d.record(escalate.Record{Exec: ex, Decision: last})
			}
			asked := 0
			if tt.prompter != nil {
				asked = len(tt.prompter.asked)
				for _, q := range tt.prompter.asked {
					if q.Justification != unprotectedRepoWarning {
						t.Errorf("prompt justification %q", q.Justification)
					}
				}
			}
			if asked != tt.asked {
				t.Errorf("asked %d times, want %d", asked, tt.asked)
			}
			got := call.Decisions.List()
			if tt.reason != "" && !strings.Contains(got[len(got)-1].Reason, tt.reason) {
				t.Errorf("last reason %q lacks %q", got[len(got)-1].Reason, tt.reason)
			}
		})
	}
}
