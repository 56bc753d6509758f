package engine

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/execgate/execgate/escalate"
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
	r.Decisions = []Record{{Program: "/usr/bin/git", Argv: []string{"git", "push"}, Decision: escalate.Deny, Rule: "default.rules:3", Reason: "no"}}
	r.Note = "killed background job"
	b, _ = json.Marshal(r.Structured())
	want = `{"exit_code":2,"output":"x","duration":{"secs":1,"nanos":500000000},"duration_ms":1500,"timed_out":false,` +
		`"decisions":[{"program":"/usr/bin/git","argv":["git","push"],"decision":"deny","rule":"default.rules:3","reason":"no"}],"note":"killed background job"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

// A call with many program starts lists the first ones and every
// non-sandboxed decision, shortened, within the size bound, and counts the
// rest.
func TestStructuredBoundsDecisions(t *testing.T) {
	var r Result
	for i := range 150 {
		d := Record{Program: "/usr/bin/true", Argv: []string{"true", strconv.Itoa(i)}, Decision: escalate.Run}
		if i%30 == 29 {
			d = Record{Program: "/usr/bin/rm", Argv: []string{"rm", "-rf", strconv.Itoa(i)}, Decision: escalate.Deny, Reason: "forbidden by rule"}
		}
		r.Decisions = append(r.Decisions, d)
	}
	r.Decisions[3].Argv = append([]string{"echo", strings.Repeat("é", 50000)}, make([]string, 100)...)
	out := r.Structured()
	var listed []string
	for _, d := range out.Decisions {
		listed = append(listed, d.Argv[len(d.Argv)-1])
	}
	want := "0 1 2 [... 79 more arguments] 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 29 59 89 119 149"
	if got := strings.Join(listed, " "); got != want {
		t.Errorf("listed %s\nwant   %s", got, want)
	}
	if out.DecisionsOmitted != 150-len(out.Decisions) {
		t.Errorf("omitted %d, want %d", out.DecisionsOmitted, 150-len(out.Decisions))
	}
	if a := out.Decisions[3].Argv; len(a) != maxListedArgs || !strings.HasSuffix(a[1], "[... 99800 bytes]") || !utf8.ValidString(a[1]) {
		t.Errorf("long argv kept as %d arguments, the long one ending %q", len(a), a[1][len(a[1])-30:])
	}
	b, _ := json.Marshal(out.Decisions)
	if len(b) > decisionsBudget {
		t.Errorf("decisions take %d bytes, over %d", len(b), decisionsBudget)
	}
	if len(r.Decisions) != 150 || len(r.Decisions[3].Argv) != 102 {
		t.Error("Structured changed the full list")
	}
}
