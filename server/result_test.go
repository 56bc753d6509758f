package server

import (
	"encoding/json"
	"testing"
	"time"
)

func TestCodexJSON(t *testing.T) {
	tests := []struct {
		name string
		r    Result
		want string
	}{
		{
			"zero",
			Result{},
			`{"exit_code":0,"output":"","duration":{"secs":0,"nanos":0},"timed_out":false}`,
		},
		{
			"typical",
			Result{ExitCode: 1, Output: "a <b> & \"c\"\n", Duration: time.Second + 5000, TimedOut: true, Note: "not in Codex's shape"},
			`{"exit_code":1,"output":"a <b> & \"c\"\n","duration":{"secs":1,"nanos":5000},"timed_out":true}`,
		},
		{
			"signal exit and long duration",
			Result{ExitCode: 137, Duration: 90*time.Minute + 999999999},
			`{"exit_code":137,"output":"","duration":{"secs":5400,"nanos":999999999},"timed_out":false}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.CodexJSON(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestStructured(t *testing.T) {
	r := Result{ExitCode: 2, Output: "x", Duration: 1500 * time.Millisecond}
	b, err := json.Marshal(r.Structured())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"exit_code":2,"output":"x","duration":{"secs":1,"nanos":500000000},"duration_ms":1500,"timed_out":false,"decisions":[]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	r.Decisions = []Decision{{Program: "/usr/bin/git", Argv: []string{"git", "push"}, Decision: VerdictDeny, Rule: "default.rules:3", Reason: "no"}}
	r.Note = "killed background job"
	b, _ = json.Marshal(r.Structured())
	want = `{"exit_code":2,"output":"x","duration":{"secs":1,"nanos":500000000},"duration_ms":1500,"timed_out":false,` +
		`"decisions":[{"program":"/usr/bin/git","argv":["git","push"],"decision":"deny","rule":"default.rules:3","reason":"no"}],"note":"killed background job"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}
