package escalate

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestResponseWireForms(t *testing.T) {
	tests := []struct {
		resp Response
		wire string
	}{
		{Response{Action: Run}, `{"action":"Run"}`},
		{Response{Action: Escalate}, `{"action":"Escalate"}`},
		{Response{Action: Deny, Reason: "no \"git push\" here"}, `{"action":{"Deny":{"reason":"no \"git push\" here"}}}`},
		{Response{Action: Deny}, `{"action":{"Deny":{"reason":null}}}`},
		// execgate's extension: a sibling field serde's default ignores.
		{Response{Action: Run, Note: "execgate: git runs inside the sandbox\n\"x\""}, `{"action":"Run","note":"execgate: git runs inside the sandbox\n\"x\""}`},
	}
	for _, tc := range tests {
		b, err := json.Marshal(tc.resp)
		if err != nil || string(b) != tc.wire {
			t.Errorf("Marshal(%+v) = %s, %v; want %s", tc.resp, b, err, tc.wire)
		}
		got, err := ParseResponse([]byte(tc.wire))
		if err != nil || got != tc.resp {
			t.Errorf("ParseResponse(%s) = %+v, %v; want %+v", tc.wire, got, err, tc.resp)
		}
	}
	// Whitespace and field forms a serde peer may emit are accepted too.
	got, err := ParseResponse([]byte(` { "action" : { "Deny" : { } } } `))
	if err != nil || got.Action != Deny || got.Reason != "" {
		t.Errorf("spaced Deny without reason: %+v, %v", got, err)
	}
}

func TestResponseRejectsMalformed(t *testing.T) {
	bad := map[string]string{
		``:                                  "escalate response",
		`{}`:                                "missing field \"action\"",
		`{"action":"Nope"}`:                 "unknown action \"Nope\"",
		`{"action":{"Allow":{}}}`:           "must be",
		`{"action":"Run","extra":1}`:        "unknown field",
		`{"action":"Run"} {"action":"Run"}`: "trailing data",
		`{"action":{"Deny":{"reason":7}}}`:  "must be",
		`[1,2]`:                             "escalate response",
	}
	for in, want := range bad {
		_, err := ParseResponse([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseResponse(%q) error = %v, want %q", in, err, want)
		}
	}
}

func TestAppendRequestMatchesEncodingJSON(t *testing.T) {
	reqs := []Request{
		{File: "/usr/bin/git", Argv: []string{"git", "status"}, Workdir: "/w", Env: map[string]string{"A": "1"}},
		{File: "x", Argv: []string{}, Workdir: "", Env: map[string]string{}},
		{File: "ctl\x00\x01\x1f\"\\\n\r\t", Argv: []string{"é", "日本", "\u2028\u2029", "<&>"}, Env: map[string]string{"k\"": "v\\"}},
		{File: "bad\xffutf8\xc3", Argv: []string{"\xed\xa0\x80"}},
	}
	for _, r := range reqs {
		got := AppendRequest(nil, &r)
		var back Request
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("AppendRequest(%+v) produced invalid JSON %s: %v", r, got, err)
		}
		want, _ := json.Marshal(r)
		var wantBack Request
		json.Unmarshal(want, &wantBack)
		if back.Env == nil {
			back.Env = map[string]string{}
		}
		if wantBack.Env == nil {
			wantBack.Env = map[string]string{}
		}
		if !reflect.DeepEqual(back, wantBack) {
			t.Errorf("AppendRequest round trip = %+v, encoding/json gives %+v", back, wantBack)
		}
	}
}

func TestLossless(t *testing.T) {
	if !(&Request{File: "/bin/é", Argv: []string{"a"}}).Lossless() {
		t.Error("valid UTF-8 reported lossy")
	}
	if (&Request{File: "/bin/x", Argv: []string{"a\xff"}}).Lossless() {
		t.Error("invalid UTF-8 argv reported lossless")
	}
}

// TestServerErrorAnswer: the error answer decodes to a *serverError (the
// wrapper prints it and fails closed), and encodes back to its wire form.
func TestServerErrorAnswer(t *testing.T) {
	wire := `{"error":"too many \"execs\""}`
	_, err := ParseResponse([]byte(wire))
	var se *serverError
	if !errors.As(err, &se) || se.Msg != `too many "execs"` || err.Error() != `execgate server: too many "execs"` {
		t.Fatalf("ParseResponse(%s): %v", wire, err)
	}
	if b, _ := se.MarshalJSON(); string(b) != wire {
		t.Errorf("MarshalJSON = %s, want %s", b, wire)
	}
}

// An Action's text form is what records of decisions say: the lower-case
// name, read back exactly; anything else is refused rather than taken for
// Run, the zero value.
func TestActionText(t *testing.T) {
	for a, name := range map[Action]string{Run: "run", Escalate: "escalate", Deny: "deny"} {
		b, err := json.Marshal(a)
		if err != nil || string(b) != `"`+name+`"` {
			t.Errorf("%v encodes as %s, %v; want %q", a, b, err, name)
		}
		var back Action = 42
		if err := json.Unmarshal(b, &back); err != nil || back != a {
			t.Errorf("%s decodes as %v, %v", b, back, err)
		}
	}
	if b, _ := Action(42).MarshalText(); string(b) != "Action(42)" {
		t.Errorf("an unknown action encodes as %q, want it named in logs", b)
	}
	for _, bad := range []string{`"Action(42)"`, `"Run"`, `""`, `0`} {
		var a Action = Deny
		if err := json.Unmarshal([]byte(bad), &a); err == nil {
			t.Errorf("%s decoded as %v, want an error", bad, a)
		}
	}
}
