package server

import (
	"context"
	"errors"
	"testing"
)

// fixedPrompter is the user giving the same answer every time.
type fixedPrompter struct {
	ans PromptAnswer
	err error
}

func (f fixedPrompter) Prompt(context.Context, PromptRequest) (PromptAnswer, error) {
	return f.ans, f.err
}

func TestCallAsk(t *testing.T) {
	tests := []struct {
		name       string
		p          Prompter
		onAccept   Verdict
		want       Verdict
		wantAnswer Answer
		wantReason string
	}{
		{"once on a prompt rule escalates", fixedPrompter{ans: PromptAnswer{Answer: AllowOnce}}, VerdictEscalate, VerdictEscalate, AllowOnce, ""},
		{"always on a heuristic runs sandboxed", fixedPrompter{ans: PromptAnswer{Answer: AlwaysAllow}}, VerdictRun, VerdictRun, AlwaysAllow, ""},
		{"deny keeps the reason", fixedPrompter{ans: PromptAnswer{Answer: Deny, Reason: "user declined execution"}}, VerdictEscalate, VerdictDeny, Deny, "user declined execution"},
		{"deny without reason gets one", fixedPrompter{ans: PromptAnswer{Answer: Deny}}, VerdictEscalate, VerdictDeny, Deny, "not approved"},
		{"unknown answer denies", fixedPrompter{ans: PromptAnswer{Answer: Answer(42)}}, VerdictEscalate, VerdictDeny, Answer(42), "not approved"},
		{"error denies", fixedPrompter{err: errors.New("boom")}, VerdictEscalate, VerdictDeny, Deny, "could not ask the user: boom"},
		{"no prompter denies", nil, VerdictEscalate, VerdictDeny, Deny, "no way to ask the user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Call{Prompter: tt.p}
			v, ans := c.Ask(context.Background(), PromptRequest{Command: []string{"/bin/x"}}, tt.onAccept)
			if v != tt.want || ans.Answer != tt.wantAnswer || ans.Reason != tt.wantReason {
				t.Errorf("got %s %+v, want %s %v %q", v, ans, tt.want, tt.wantAnswer, tt.wantReason)
			}
		})
	}
}
