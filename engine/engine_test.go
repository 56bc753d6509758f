package engine

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
		want       bool // accepted
		wantAnswer Answer
		wantReason string
	}{
		{"once accepts", fixedPrompter{ans: PromptAnswer{Answer: AllowOnce}}, true, AllowOnce, ""},
		{"always accepts", fixedPrompter{ans: PromptAnswer{Answer: AlwaysAllow}}, true, AlwaysAllow, ""},
		{"deny keeps the reason", fixedPrompter{ans: PromptAnswer{Answer: Deny, Reason: "user declined execution"}}, false, Deny, "user declined execution"},
		{"deny without reason gets one", fixedPrompter{ans: PromptAnswer{Answer: Deny}}, false, Deny, "not approved"},
		{"unknown answer denies", fixedPrompter{ans: PromptAnswer{Answer: Answer(42)}}, false, Answer(42), "not approved"},
		{"error denies", fixedPrompter{err: errors.New("boom")}, false, Deny, "could not ask the user: boom"},
		{"no prompter denies", nil, false, Deny, "no way to ask the user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Call{Prompter: tt.p}
			ans, ok := c.Ask(context.Background(), PromptRequest{Command: []string{"/bin/x"}})
			if ok != tt.want || ans.Answer != tt.wantAnswer || ans.Reason != tt.wantReason {
				t.Errorf("got %v %+v, want %v %v %q", ok, ans, tt.want, tt.wantAnswer, tt.wantReason)
			}
		})
	}
}

// A prompt that fails because the call ended says so, not "could not ask".
func TestCallAskAbandoned(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("client disconnected"))
	c := &Call{Prompter: fixedPrompter{err: context.Canceled}}
	ans, ok := c.Ask(ctx, PromptRequest{Command: []string{"/bin/x"}})
	if ok || ans.Answer != Deny || ans.Reason != "prompt abandoned: client disconnected" {
		t.Errorf("got %v %+v, want a denial: prompt abandoned: client disconnected", ok, ans)
	}
}
