package engine

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/testhelp"
	"github.com/execgate/execgate/policy"
)

// The decision recorded is the answer the session sent: the decider's,
// unless the session overrode it (keeping the rule) or never asked.
func TestDeciderRecord(t *testing.T) {
	home := t.TempDir()
	rules := filepath.Join(home, "t.rules")
	testhelp.WriteFile(t, rules, `prefix_rule(pattern=["/usr/bin/git", "status"], decision="allow")`+"\n")
	store, err := policy.NewStore(context.Background(), func() ([]string, error) { return []string{rules}, nil }, policy.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gitStatus := escalate.Exec{File: "/usr/bin/git", Argv: []string{"git", "status"}, Workdir: "/"}
	tests := []struct {
		name string
		sent func(decided escalate.Decision) escalate.Decision
		want Record
	}{
		{name: "as decided", sent: func(d escalate.Decision) escalate.Decision { return d },
			want: Record{Program: "/usr/bin/git", Argv: []string{"git", "status"}, Decision: escalate.Escalate, Rule: rules + ":1:12", Reason: "allowed by rule"}},
		{name: "overridden by the session", sent: func(d escalate.Decision) escalate.Decision {
			return escalate.Decision{Action: escalate.Deny, Reason: "workdir / is gone", Rule: d.Rule}
		},
			want: Record{Program: "/usr/bin/git", Argv: []string{"git", "status"}, Decision: escalate.Deny, Rule: rules + ":1:12", Reason: "workdir / is gone"}},
		{name: "never decided", sent: func(escalate.Decision) escalate.Decision {
			return escalate.Decision{Action: escalate.Deny, Reason: "invalid request: empty argv"}
		},
			want: Record{Program: "/usr/bin/git", Argv: []string{"git", "status"}, Decision: escalate.Deny, Reason: "invalid request: empty argv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := &Call{Decisions: newDecisions("t", nil)}
			d := newDecider(call, store, store.Amend, &approvals{}, &onceSet{}, nil, false, testhelp.Logger(nil))
			d.record(escalate.Record{Exec: gitStatus, Decision: tt.sent(d.Decide(context.Background(), gitStatus))})
			got := call.Decisions.List()
			if len(got) != 1 || got[0].Program != tt.want.Program || got[0].Decision != tt.want.Decision ||
				got[0].Rule != tt.want.Rule || got[0].Reason != tt.want.Reason {
				t.Errorf("recorded %+v, want %+v", got, tt.want)
			}
		})
	}
}

// An escalated program gets as argv[0] the name its rule matched: the
// absolute path for a rule naming it, else (empty Argv0: the session's
// default) the base name. The record shows what ran.
func TestDeciderArgv0(t *testing.T) {
	home := t.TempDir()
	rules := filepath.Join(home, "t.rules")
	testhelp.WriteFile(t, rules, `prefix_rule(pattern=["/usr/bin/git", "status"], decision="allow")`+"\n"+
		`prefix_rule(pattern=["git", "log"], decision="allow")`+"\n")
	store, err := policy.NewStore(context.Background(), func() ([]string, error) { return []string{rules}, nil }, policy.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		argv      []string
		wantArgv0 string
	}{
		{[]string{"git-archive", "status"}, "/usr/bin/git"},
		{[]string{"git-push", "log"}, ""},
	} {
		call := &Call{Decisions: newDecisions("t", nil)}
		d := newDecider(call, store, store.Amend, &approvals{}, &onceSet{}, nil, false, testhelp.Logger(nil))
		ex := escalate.Exec{File: "/usr/bin/git", Argv: tt.argv, Workdir: "/"}
		got := d.Decide(context.Background(), ex)
		if got.Action != escalate.Escalate || got.Argv0 != tt.wantArgv0 {
			t.Errorf("%q: %+v, want Escalate with Argv0 %q", tt.argv, got, tt.wantArgv0)
		}
		ran := []string{"git", tt.argv[1]}
		d.record(escalate.Record{Exec: ex, Decision: got, Program: "/usr/bin/git", Argv: ran})
		if rec := call.Decisions.List(); len(rec) != 1 || rec[0].Executable != "/usr/bin/git" || rec[0].Argv[0] != "git" || rec[0].Program != "/usr/bin/git" {
			t.Errorf("%q: recorded %+v, want what ran", tt.argv, rec)
		}
	}
}

// A bounded onceSet forgets everything when full, so its memory stays
// bounded however many distinct strings it sees; an unbounded one never
// repeats a first sighting.
func TestOnceSetBound(t *testing.T) {
	tests := []struct {
		name      string
		max       int
		sightings []string
		want      []bool
	}{
		{"unbounded", 0, []string{"a", "b", "a", "c", "b"}, []bool{true, true, false, true, false}},
		{"bound 2", 2, []string{"a", "a", "b", "a", "c", "a", "c"}, []bool{true, false, true, false, true, true, false}},
	}
	for _, tt := range tests {
		o := &onceSet{max: tt.max}
		for i, s := range tt.sightings {
			if got := o.first(s); got != tt.want[i] {
				t.Errorf("%s: sighting %d (%q) first = %v, want %v", tt.name, i, s, got, tt.want[i])
			}
			if tt.max > 0 && len(o.seen) > tt.max {
				t.Errorf("%s: %d remembered, bound %d", tt.name, len(o.seen), tt.max)
			}
		}
	}
}
