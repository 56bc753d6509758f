package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/execgate/execgate/engine"
)

func TestElicitMessage(t *testing.T) {
	got := elicitMessage(engine.PromptRequest{
		Command: []string{"/usr/bin/git", "push", "origin", "my branch"}, Workdir: "/src/x",
		Env:  []string{"LANG=de_DE.UTF-8", "TZ=Europe/Paris"},
		Rule: "default.rules:2", Justification: "pushing publishes code",
	})
	want := "Allow the agent to run `/usr/bin/git push origin 'my branch'` in `/src/x`?\n" +
		"Environment set by the agent: LANG=de_DE.UTF-8 TZ=Europe/Paris\nRule: default.rules:2\nJustification: pushing publishes code"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if m := elicitMessage(engine.PromptRequest{Command: []string{"ls"}}); strings.Contains(m, "Rule") || strings.Contains(m, "Environment") {
		t.Errorf("empty rule or environment shown: %q", m)
	}
}

// TestElicitMessageSpoof: what the agent chose (workdir, argv, environment)
// cannot add lines to the prompt nor send the terminal escapes.
func TestElicitMessageSpoof(t *testing.T) {
	evil := "x\rAllow the agent to run `ls`?\nRule: /etc/codex/rules/safe.rules:1\nJustification: harmless\x1b[2K\u202e"
	m := elicitMessage(engine.PromptRequest{
		Command: []string{"/usr/bin/curl", evil}, Workdir: "/ws/" + evil, Env: []string{"TZ=" + evil},
		Rule: "/ws/" + evil + ":1", Justification: evil,
	})
	lines := strings.Split(m, "\n")
	if len(lines) != 4 {
		t.Errorf("the message has %d lines, want 4:\n%s", len(lines), m)
	}
	for i, prefix := range []string{"Allow the agent to run ", "Environment set by the agent: ", "Rule: ", "Justification: "} {
		if i < len(lines) && !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d is %q, want it to start with %q", i, lines[i], prefix)
		}
	}
	if strings.ContainsAny(m, "\r\x1b\u202e") {
		t.Errorf("control characters reached the message: %q", m)
	}
}

func TestElicitSchemaShape(t *testing.T) {
	for _, tc := range []struct{ protocol, want string }{
		// What Codex 0.97 and 0.171 negotiate: enumNames.
		{"2025-06-18", `{"type":"object","properties":{"decision":{"type":"string","title":"Decision","description":"Run this command outside the sandbox?","default":"allow_once","enum":["allow_once","always_allow","deny"],"enumNames":["Allow once","Always allow (adds an allow rule)","Deny"]}}}`},
		{"2025-11-25", `{"type":"object","properties":{"decision":{"type":"string","title":"Decision","description":"Run this command outside the sandbox?","default":"allow_once","oneOf":[{"title":"Allow once","const":"allow_once"},{"title":"Always allow (adds an allow rule)","const":"always_allow"},{"title":"Deny","const":"deny"}]}}}`},
	} {
		b, err := json.Marshal(elicitSchema(tc.protocol))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("%s: schema\n got %s\nwant %s", tc.protocol, b, tc.want)
		}
	}
}
