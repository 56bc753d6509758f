package policy

import (
	"encoding/json"
	"testing"
)

// TestCheck covers Codex's matching: exact first token, prefix only, tokens
// never skipped, alternatives, head expansion, all matches in load order with
// duplicates, strictest wins, and the JSON shape of each match.
func TestCheck(t *testing.T) {
	p := mustLoad(t, rulesFile("match", "policy.rules"), rulesFile("match", "second.rules"))
	tests := []struct {
		cmd  []string
		want string
	}{
		{[]string{"git", "status"}, `{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["git","status"],"decision":"allow"}},{"prefixRuleMatch":{"matchedPrefix":["git"],"decision":"prompt","justification":"git needs review"}},{"prefixRuleMatch":{"matchedPrefix":["git","status"],"decision":"allow"}},{"prefixRuleMatch":{"matchedPrefix":["git","status"],"decision":"forbidden","justification":"second file"}}],"decision":"forbidden"}`},
		{[]string{"git", "-C", ".", "status"}, `{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["git"],"decision":"prompt","justification":"git needs review"}}],"decision":"prompt"}`},
		{[]string{"git"}, `{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["git"],"decision":"prompt","justification":"git needs review"}}],"decision":"prompt"}`},
		{[]string{"Git", "status"}, `{"matchedRules":[]}`},
		{[]string{"/usr/bin/git", "status"}, `{"matchedRules":[]}`},
		{[]string{"/usr/bin/git", "push", "origin"}, `{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["/usr/bin/git","push"],"decision":"forbidden","justification":"no pushing <main> & \"dev\""}}],"decision":"forbidden"}`},
		{[]string{"pnpm", "exec", "build", "--prod"}, `{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["pnpm","exec","build"],"decision":"allow"}}],"decision":"allow"}`},
		{[]string{"npm", "run", "build"}, `{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["npm","run","build"],"decision":"allow"}}],"decision":"allow"}`},
		{[]string{"npm", "run"}, `{"matchedRules":[]}`},
		{[]string{"npm", "build", "run"}, `{"matchedRules":[]}`},
		{[]string{"rm", "-rf", "/"}, `{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["rm","-rf"],"decision":"forbidden"}},{"prefixRuleMatch":{"matchedPrefix":["rm"],"decision":"prompt"}}],"decision":"forbidden"}`},
		{[]string{"rm", "-r"}, `{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["rm"],"decision":"prompt"}}],"decision":"prompt"}`},
		{[]string{"empty", ""}, `{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["empty",""],"decision":"allow"}}],"decision":"allow"}`},
		{[]string{"empty", "x"}, `{"matchedRules":[]}`},
		{[]string{"echo", "a\tb\x01"}, `{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["echo"],"decision":"allow","justification":"unicode: héllo ✓"}}],"decision":"allow"}`},
		{[]string{}, `{"matchedRules":[]}`},
	}
	for _, tt := range tests {
		got := string(CheckJSON(p.Check(tt.cmd), false))
		if got != tt.want {
			t.Errorf("Check(%q)\n got: %s\nwant: %s", tt.cmd, got, tt.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("Check(%q): invalid JSON %s", tt.cmd, got)
		}
	}
}

func TestCheckWithFallback(t *testing.T) {
	p := mustLoad(t, rulesFile("match", "policy.rules"))
	prompt := func([]string) Decision { return Prompt }
	tests := []struct {
		cmds [][]string
		want string
	}{
		{[][]string{{"ls"}}, `{"decision":"prompt","matchedRules":[{"heuristicsRuleMatch":{"command":["ls"],"decision":"prompt"}}]}`},
		{[][]string{{"ls"}, {"rm", "-rf", "x"}}, `{"decision":"forbidden","matchedRules":[{"heuristicsRuleMatch":{"command":["ls"],"decision":"prompt"}},{"prefixRuleMatch":{"matchedPrefix":["rm","-rf"],"decision":"forbidden"}},{"prefixRuleMatch":{"matchedPrefix":["rm"],"decision":"prompt"}}]}`},
		{nil, `{"decision":null,"matchedRules":[]}`},
	}
	for _, tt := range tests {
		ev := p.CheckMultiple(tt.cmds, prompt)
		got, _ := json.Marshal(ev)
		if string(got) != tt.want {
			t.Errorf("CheckMultiple(%q)\n got: %s\nwant: %s", tt.cmds, got, tt.want)
		}
	}
	if ev := p.CheckWithFallback([]string{"ls"}, prompt); ev.IsMatch() || ev.Decision != Prompt {
		t.Errorf("heuristics-only evaluation: %+v", ev)
	}
	if ev := p.CheckWithFallback([]string{"rm"}, prompt); !ev.IsMatch() {
		t.Errorf("rule evaluation not a match: %+v", ev)
	}
}

func TestWithRuleDoesNotAlias(t *testing.T) {
	p := mustLoad(t, rulesFile("match", "policy.rules"))
	before := len(p.Rules("git"))
	q := p.WithRule(&PrefixRule{Program: "git", Rest: []Token{{"fetch"}}, Decision: Allow})
	r := p.WithRule(&PrefixRule{Program: "git", Rest: []Token{{"pull"}}, Decision: Allow})
	if len(p.Rules("git")) != before || len(q.Rules("git")) != before+1 || q.Len() != p.Len()+1 {
		t.Fatalf("WithRule changed the original or did not add")
	}
	if len(q.Matches([]string{"git", "pull"})) != 1 || len(r.Matches([]string{"git", "pull"})) != 2 {
		t.Errorf("derived policies share a backing array")
	}
}

func TestDebugString(t *testing.T) {
	r := &PrefixRule{Program: "git", Rest: []Token{{"status"}, {"a", "b"}}, Decision: Allow}
	want := `PrefixRule { pattern: PrefixPattern { first: "git", rest: [Single("status"), Alts(["a", "b"])] }, decision: Allow, justification: None }`
	if got := r.debugString(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	r = &PrefixRule{Program: "a\"b\\", Decision: Forbidden, Justification: "x\ny"}
	want = `PrefixRule { pattern: PrefixPattern { first: "a\"b\\", rest: [] }, decision: Forbidden, justification: Some("x\ny") }`
	if got := r.debugString(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
