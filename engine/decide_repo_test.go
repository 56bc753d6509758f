package engine

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/testhelp"
	"github.com/execgate/execgate/policy"
	"github.com/execgate/execgate/repotrust"
	"github.com/execgate/execgate/sandbox"
)

// answering is a Prompter that gives one answer and records the prompts.
type answering struct {
	answer PromptAnswer
	asked  []PromptRequest
}

func (a *answering) Prompt(_ context.Context, req PromptRequest) (PromptAnswer, error) {
	a.asked = append(a.asked, req)
	return a.answer, nil
}

// An allowed git escalates in a repository the sandbox kept read-only, and
// otherwise runs sandboxed with a note for its stderr, or asks
// (untrusted_repository = "ask"). A prompt rule's prompt carries the
// warning.
func TestDeciderRepositoryTrust(t *testing.T) {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed")
	}
	gitPath, _ = filepath.EvalSymlinks(gitPath)
	base, _ := filepath.EvalSymlinks(t.TempDir())
	ws := filepath.Join(base, "ws")
	nested := filepath.Join(ws, "nested")
	sub := filepath.Join(ws, "sub")
	for _, dir := range []string{ws, nested, sub} {
		if out, err := exec.Command("mkdir", "-p", dir).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	env := []string{"HOME=" + base, "PATH=/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM=1"}
	for _, dir := range []string{ws, nested} {
		cmd := exec.Command("git", "init", "-q", dir)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git init: %v: %s", err, out)
		}
	}
	rules := filepath.Join(base, "t.rules")
	testhelp.WriteFile(t, rules, `prefix_rule(pattern=["git", "status"], decision="allow")
prefix_rule(pattern=["git", "push"], decision="prompt", justification="pushing publishes")
`)
	store, err := policy.NewStore(context.Background(), func() ([]string, error) { return []string{rules}, nil }, policy.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	protect := sandbox.Protection{Mode: sandbox.WorkspaceWrite, Enforced: true,
		Roots: []sandbox.Root{{Path: ws, Protected: []string{filepath.Join(ws, ".git")}}}}
	exe := func(dir string, args ...string) escalate.Exec {
		return escalate.Exec{File: gitPath, Argv: append([]string{"git"}, args...), Workdir: dir}
	}
	status, nestedStatus, nestedPush, subStatus := exe(ws, "status"), exe(nested, "status"), exe(nested, "push"), exe(sub, "status")

	tests := []struct {
		name       string
		enforced   bool
		unconfined bool // the call runs in danger-full-access
		ask        bool
		prompter   *answering
		execs      []escalate.Exec
		want       []escalate.Action
		asked      int
		reason     string // in the last decision's reason
		note       string // in the last answer's note
		prompt     string // in the last prompt's justification
		env        []string
	}{
		{name: "trusted repository", enforced: true, execs: []escalate.Exec{status},
			want: []escalate.Action{escalate.Escalate}, reason: "repository " + filepath.Join(ws, ".git") + " kept read-only"},
		{name: "subdirectory: the repository is given", enforced: true, execs: []escalate.Exec{subStatus},
			want: []escalate.Action{escalate.Escalate}, reason: "GIT_DIR", env: []string{"GIT_DIR=" + filepath.Join(ws, ".git"), "GIT_WORK_TREE=" + ws}},
		{name: "nested repository runs sandboxed", enforced: true, execs: []escalate.Exec{nestedStatus},
			want: []escalate.Action{escalate.Run}, reason: "allowed by rule, but it runs inside the sandbox: the git directory " + filepath.Join(nested, ".git"), note: "execgate: git runs inside the sandbox"},
		{name: "no namespaces: nothing trusted", execs: []escalate.Exec{status},
			want: []escalate.Action{escalate.Run}, reason: "no user namespaces", note: "no user namespaces"},
		{name: "danger-full-access: nothing to escape", enforced: true, unconfined: true, execs: []escalate.Exec{nestedStatus},
			want: []escalate.Action{escalate.Escalate}, reason: "allowed by rule"},
		{name: "ask: approved once", enforced: true, ask: true, prompter: &answering{answer: PromptAnswer{Answer: AllowOnce}},
			execs: []escalate.Exec{nestedStatus, nestedStatus}, want: []escalate.Action{escalate.Escalate, escalate.Escalate}, asked: 2,
			reason: "outside the sandbox although", prompt: "Allowed, it runs outside the sandbox"},
		{name: "ask: always asks once", enforced: true, ask: true, prompter: &answering{answer: PromptAnswer{Answer: AlwaysAllow}},
			execs: []escalate.Exec{nestedStatus, nestedStatus}, want: []escalate.Action{escalate.Escalate, escalate.Escalate}, asked: 1,
			reason: "approved earlier"},
		{name: "ask: declined", enforced: true, ask: true, prompter: &answering{answer: PromptAnswer{Answer: Deny, Reason: "no"}},
			execs: []escalate.Exec{nestedStatus}, want: []escalate.Action{escalate.Deny}, asked: 1, reason: "no ("},
		{name: "ask: no way to ask", enforced: true, ask: true,
			execs: []escalate.Exec{nestedStatus}, want: []escalate.Action{escalate.Deny}, reason: "no way to ask"},
		{name: "prompt rule in an untrusted repository", enforced: true, prompter: &answering{answer: PromptAnswer{Answer: AllowOnce}},
			execs: []escalate.Exec{nestedPush}, want: []escalate.Action{escalate.Run}, asked: 1,
			reason: "user approved: allow once, but it runs inside the sandbox", note: "runs inside the sandbox",
			prompt: "pushing publishes This program runs code from its repository"},
		{name: "prompt rule, ask mode", enforced: true, ask: true, prompter: &answering{answer: PromptAnswer{Answer: AllowOnce}},
			execs: []escalate.Exec{nestedPush}, want: []escalate.Action{escalate.Escalate}, asked: 1, prompt: "Allowed, it runs outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := repotrust.NewRegistry(repotrust.DefaultPrograms(), env)
			p := protect
			p.Enforced = tt.enforced
			reg.Observe(p)
			call := &Call{Decisions: newDecisions("t", nil)}
			if tt.prompter != nil {
				call.Prompter = tt.prompter
			}
			d := newDecider(call, store, store.Amend, &approvals{}, &onceSet{}, []string{ws}, false, testhelp.Logger(nil))
			d.repos = repoTrust{reg: reg, confined: !tt.unconfined, ask: tt.ask,
				env: func([]string) []string { return env }}
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
				if tt.prompt != "" && (asked == 0 || !strings.Contains(tt.prompter.asked[asked-1].Justification, tt.prompt)) {
					t.Errorf("prompts %+v lack %q", tt.prompter.asked, tt.prompt)
				}
			}
			if asked != tt.asked {
				t.Errorf("asked %d times, want %d", asked, tt.asked)
			}
			got := call.Decisions.List()
			if tt.reason != "" && !strings.Contains(got[len(got)-1].Reason, tt.reason) {
				t.Errorf("last reason %q lacks %q", got[len(got)-1].Reason, tt.reason)
			}
			if !slices.Equal(last.Env, tt.env) {
				t.Errorf("env %q, want %q", last.Env, tt.env)
			}
			if !strings.Contains(last.Note, tt.note) || tt.note == "" && last.Note != "" {
				t.Errorf("note %q, want %q", last.Note, tt.note)
			}
		})
	}
}
