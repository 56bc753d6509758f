package policy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStoreRequirements: a Store built from Sources follows requirements.toml
// like a rules file (added, changed, broken, fixed, removed); a broken file
// keeps the last good policy and the error names it; an amended allow does
// not override a requirement, in memory or after the reload.
func TestStoreRequirements(t *testing.T) {
	root := t.TempDir()
	sys, home := filepath.Join(root, "etc"), filepath.Join(root, "home")
	req := filepath.Join(sys, RequirementsFileName)
	writeFile(t, filepath.Join(home, "rules", "user.rules"), `prefix_rule(pattern=["git"], decision="allow")`+"\n")
	s, err := Sources{SystemDir: sys, Home: home}.NewStore(context.Background(), StoreOptions{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	check := func(step, cmd string, want Decision, wantErr string) {
		t.Helper()
		p, err := s.Policy(context.Background())
		if got := p.Check(strings.Fields(cmd)).Decision; got != want {
			t.Errorf("%s: %s: decision %v, want %v", step, cmd, got, want)
		}
		if (err == nil) != (wantErr == "") || err != nil && !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: err %v, want %q", step, err, wantErr)
		}
	}
	check("no requirements yet", "git push", Allow, "")

	writeFile(t, req, "[rules]\nprefix_rules = [{ pattern = [{ token = \"git\" }, { token = \"push\" }], decision = \"forbidden\" }]\n")
	check("added", "git push", Forbidden, "")
	check("added", "git status", Allow, "")

	writeFile(t, req, "[rules]\nprefix_rules = [{ pattern = [{ token = \"git\" }, { token = \"status\" }], decision = \"prompt\", justification = \"changed\" }]\n")
	check("changed", "git push", Allow, "")
	check("changed", "git status", Prompt, "")

	writeFile(t, req, "[rules]\nprefix_rules = [{ pattern = [{ token = \"git\" }], decision = \"allow\" }]\n")
	check("broken", "git status", Prompt, req+": rules prefix_rule at index 0 has decision 'allow'")
	check("broken, not re-parsed", "git status", Prompt, "keeping the previous policy")

	writeFile(t, req, "[rules]\nprefix_rules = [{ pattern = [{ token = \"git\" }, { token = \"push\" }], decision = \"forbidden\", justification = \"fixed\" }]\n")
	check("fixed", "git push", Forbidden, "")

	// "Always allow" on the forbidden command: the requirement still
	// decides once the amended file is reloaded (TestStoreAmendBeforeReload
	// covers the in-memory rule).
	if err := s.Amend([]string{"git", "push"}); err != nil {
		t.Fatal(err)
	}
	p, err := s.Policy(context.Background()) // default.rules appeared: this call reloads
	if err != nil || len(p.Files()) != 2 {
		t.Fatalf("reload after amend: files %q, err %v", p.Files(), err)
	}
	wantJSON := `{"matchedRules":[` +
		`{"prefixRuleMatch":{"matchedPrefix":["git","push"],"decision":"allow"}},` + // default.rules sorts first
		`{"prefixRuleMatch":{"matchedPrefix":["git"],"decision":"allow"}},` +
		`{"prefixRuleMatch":{"matchedPrefix":["git","push"],"decision":"forbidden","justification":"fixed"}}],"decision":"forbidden"}`
	if got := string(CheckJSON(p.Check([]string{"git", "push"}), false)); got != wantJSON {
		t.Errorf("after amend\n got: %s\nwant: %s", got, wantJSON)
	}

	if err := os.Remove(req); err != nil {
		t.Fatal(err)
	}
	check("removed", "git push", Allow, "")
}

// TestStoreAmendBeforeReload: the in-memory amendment alone (no reload in
// between) already keeps the requirement last.
func TestStoreAmendBeforeReload(t *testing.T) {
	root := t.TempDir()
	sys, home := filepath.Join(root, "etc"), filepath.Join(root, "home")
	writeFile(t, filepath.Join(sys, RequirementsFileName), "[rules]\nprefix_rules = [{ pattern = [{ token = \"rm\" }], decision = \"prompt\" }]\n")
	s, err := Sources{SystemDir: sys, Home: home}.NewStore(context.Background(), StoreOptions{Home: home, CheckInterval: 1 << 62})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := s.Amend([]string{"rm", "x"}); err != nil {
		t.Fatal(err)
	}
	p, err := s.Policy(context.Background()) // CheckInterval: no reload
	if err != nil {
		t.Fatal(err)
	}
	want := `{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["rm","x"],"decision":"allow"}},{"prefixRuleMatch":{"matchedPrefix":["rm"],"decision":"prompt"}}],"decision":"prompt"}`
	if got := string(CheckJSON(p.Check([]string{"rm", "x"}), false)); got != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
}

// TestNewStoreFailsOnBrokenRequirements: at start there is no earlier
// policy, and dropping the administrator's restrictions would fail open.
func TestNewStoreFailsOnBrokenRequirements(t *testing.T) {
	sys := t.TempDir()
	req := filepath.Join(sys, RequirementsFileName)
	writeFile(t, req, "[rules]\nprefix_rules = []\n")
	_, err := Sources{SystemDir: sys}.NewStore(context.Background(), StoreOptions{})
	if err == nil || err.Error() != req+": rules prefix_rules cannot be empty" {
		t.Errorf("got %v", err)
	}
	// The same file is ignored by a Store whose sources skip the system
	// directory.
	if _, err := (Sources{SystemDir: "-"}).NewStore(context.Background(), StoreOptions{}); err != nil {
		t.Errorf("SystemDir -: %v", err)
	}
}
