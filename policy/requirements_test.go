package policy

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const requirementsDir = "testdata/requirements"

func requirementsFile(parts ...string) string {
	return filepath.Join(append([]string{requirementsDir}, parts...)...)
}

func loadWithRequirements(t testing.TB, req string, files ...string) *Policy {
	t.Helper()
	p, err := Load(context.Background(), files, LoadOptions{HomeDir: "/home/u", Requirements: req})
	if err != nil {
		t.Fatalf("Load(%v, requirements %s): %v", files, req, err)
	}
	return p
}

// TestRequirementsErrors covers every validation message Codex 0.97.0 gives
// for requirements.toml [rules], their order, type errors naming the
// key, and TOML syntax errors located at line:col. Each error starts with
// the file's path.
func TestRequirementsErrors(t *testing.T) {
	const allowMsg = "has decision 'allow', which is not permitted in requirements.toml: Codex merges these rules with other config and uses the most restrictive result (use 'prompt' or 'forbidden')"
	tests := []struct {
		file string
		want string // the whole error after the path
	}{
		{"prefix_rules_empty", ": rules prefix_rules cannot be empty"},
		{"prefix_rules_missing", ": rules prefix_rules cannot be empty"},
		{"pattern_empty", ": rules prefix_rule at index 0 has an empty pattern"},
		{"pattern_missing", ": rules prefix_rule at index 1 has an empty pattern"},
		{"token_empty", ": rules prefix_rule at index 2 has an invalid pattern token at index 1: token cannot be empty"},
		{"any_of_empty", ": rules prefix_rule at index 0 has an invalid pattern token at index 0: any_of cannot be empty"},
		{"any_of_empty_token", ": rules prefix_rule at index 0 has an invalid pattern token at index 2: any_of cannot include empty tokens"},
		{"token_both", ": rules prefix_rule at index 0 has an invalid pattern token at index 0: set either token or any_of, not both"},
		{"token_neither", ": rules prefix_rule at index 0 has an invalid pattern token at index 1: set either token or any_of"},
		{"justification_empty", ": rules prefix_rule at index 0 has an empty justification"},
		{"decision_missing", ": rules prefix_rule at index 0 is missing a decision"},
		{"decision_allow", ": rules prefix_rule at index 1 " + allowMsg},
		{"decision_unknown", `: rules.prefix_rules[0].decision: unknown decision "deny" (use 'prompt' or 'forbidden')`},
		{"order_token_before_justification", ": rules prefix_rule at index 0 has an invalid pattern token at index 0: token cannot be empty"},
		{"order_justification_before_decision", ": rules prefix_rule at index 0 has an empty justification"},
		{"order_decision_missing_before_allow_check", ": rules prefix_rule at index 0 is missing a decision"},
		{"order_types_before_validation", ": rules.prefix_rules[1].decision: expected a string, got an integer"},
		{"type_rules", ": rules: expected a table, got an integer"},
		{"type_prefix_rules", ": rules.prefix_rules: expected an array of tables, got a string"},
		{"type_entry", ": rules.prefix_rules[0]: expected a table, got a string"},
		{"type_pattern", ": rules.prefix_rules[0].pattern: expected an array of tables, got a string"},
		{"type_pattern_element", `: rules.prefix_rules[0].pattern[0]: expected a table ({token = "..."} or {any_of = [...]}), got a string`},
		{"type_token", ": rules.prefix_rules[0].pattern[0].token: expected a string, got an integer"},
		{"type_any_of", ": rules.prefix_rules[0].pattern[0].any_of: expected an array of strings, got a string"},
		{"type_any_of_element", ": rules.prefix_rules[0].pattern[0].any_of[1]: expected a string, got an integer"},
		{"type_justification", ": rules.prefix_rules[0].justification: expected a string, got a boolean"},
		{"type_array_of_tables", ": rules.prefix_rules[1].decision: expected a string, got an array"},
		{"syntax", ":4:31: toml: "},
		{"duplicate_key", ":4:2: toml: "},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := requirementsFile("errors", tt.file+".toml")
			p, err := Load(context.Background(), nil, LoadOptions{Requirements: path})
			var le *LoadError
			if p != nil || !errors.As(err, &le) {
				t.Fatalf("Load = %v, %v; want a *LoadError", p, err)
			}
			if le.File != path {
				t.Errorf("LoadError.File = %q, want %q", le.File, path)
			}
			got, want := err.Error(), path+tt.want
			if strings.HasSuffix(tt.want, "toml: ") {
				// go-toml's own wording is not ours to pin; its position is.
				if !strings.HasPrefix(got, want) {
					t.Errorf("error\n got: %s\nwant: %s...", got, want)
				}
				return
			}
			if got != want {
				t.Errorf("error\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

// TestRequirementsAfterFileRules: requirement rules come after every file's
// rules in each program's list (so last in matchedRules), head alternatives
// expand as in .rules files, and strictest-wins lets no allow rule relax
// them.
func TestRequirementsAfterFileRules(t *testing.T) {
	req := requirementsFile("order", "requirements.toml")
	p := loadWithRequirements(t, req, requirementsFile("order", "user.rules"), requirementsFile("order", "later.rules"))
	tests := []struct {
		cmd  string
		want string
	}{
		{"git push origin", `{"matchedRules":[` +
			`{"prefixRuleMatch":{"matchedPrefix":["git","push"],"decision":"allow"}},` +
			`{"prefixRuleMatch":{"matchedPrefix":["git"],"decision":"allow"}},` +
			`{"prefixRuleMatch":{"matchedPrefix":["git","push"],"decision":"forbidden","justification":"no pushing from agents"}}],"decision":"forbidden"}`},
		{"git send-email x", `{"matchedRules":[` +
			`{"prefixRuleMatch":{"matchedPrefix":["git"],"decision":"allow"}},` +
			`{"prefixRuleMatch":{"matchedPrefix":["git","send-email"],"decision":"forbidden","justification":"no pushing from agents"}}],"decision":"forbidden"}`},
		{"git status", `{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["git"],"decision":"allow"}}],"decision":"allow"}`},
		{"rm -rf /", `{"matchedRules":[` +
			`{"prefixRuleMatch":{"matchedPrefix":["rm"],"decision":"allow","justification":"I know what I am doing"}},` +
			`{"prefixRuleMatch":{"matchedPrefix":["rm","-rf"],"decision":"prompt","justification":"recursive deletes need a human"}},` +
			`{"prefixRuleMatch":{"matchedPrefix":["rm"],"decision":"forbidden"}}],"decision":"forbidden"}`},
		{"shred -rf x", `{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["shred","-rf"],"decision":"prompt","justification":"recursive deletes need a human"}}],"decision":"prompt"}`},
		{"curl https://x", `{"matchedRules":[` +
			`{"prefixRuleMatch":{"matchedPrefix":["curl"],"decision":"allow"}},` +
			`{"prefixRuleMatch":{"matchedPrefix":["curl"],"decision":"prompt","justification":"network downloads"}}],"decision":"prompt"}`},
		{"ls", `{"matchedRules":[]}`},
	}
	for _, tt := range tests {
		if got := string(CheckJSON(p.Check(strings.Fields(tt.cmd)), false)); got != tt.want {
			t.Errorf("Check(%s)\n got: %s\nwant: %s", tt.cmd, got, tt.want)
		}
	}

	if file, n := p.Requirements(); file != req || n != 5 {
		t.Errorf("Requirements() = %q, %d; want %q, 5", file, n, req)
	}
	if p.Len() != 4+5 {
		t.Errorf("Len() = %d, want 9", p.Len())
	}
	if files := p.Files(); len(files) != 2 {
		t.Errorf("Files() = %q: the requirements file is not a rules file", files)
	}
	for _, r := range p.Rules("shred") {
		if !r.Requirement || r.Pos.File != req || r.Pos.Line != 0 {
			t.Errorf("requirement rule %+v: want Requirement and Pos{File: %s}", r, req)
		}
	}
	wantWarnings := []string{
		"requirements " + req + ": allowed_sandbox_modes is not enforced by execgate (ignored)",
		"requirements " + req + ": unknown key rules.owner (ignored)",
		"requirements " + req + ": unknown key rules.prefix_rules[2].ticket (ignored)",
		"requirements " + req + ": unknown key rules.prefix_rules[3].pattern[0].note (ignored)",
	}
	if got := p.Warnings(); !slices.Equal(got, wantWarnings) {
		t.Errorf("Warnings()\n got %q\nwant %q", got, wantWarnings)
	}
}

// TestRequirementsFilePresence: a missing file (or none configured) means
// no requirements; an empty file or one without [rules] adds none; an
// unreadable one fails the load naming it.
func TestRequirementsFilePresence(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.toml")
	writeFile(t, empty, "")
	other := filepath.Join(dir, "other.toml")
	writeFile(t, other, "allowed_approval_policies = [\"on-request\"]\n")
	tests := []struct {
		name     string
		req      string
		wantFile string
		warnings int
	}{
		{"none configured", "", "", 0},
		{"missing", filepath.Join(dir, "nope.toml"), "", 0},
		{"empty", empty, empty, 0},
		{"no [rules]", other, other, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := loadWithRequirements(t, tt.req, rulesFile("match", "policy.rules"))
			if file, n := p.Requirements(); file != tt.wantFile || n != 0 {
				t.Errorf("Requirements() = %q, %d; want %q, 0", file, n, tt.wantFile)
			}
			if len(p.Warnings()) != tt.warnings {
				t.Errorf("Warnings() = %q, want %d", p.Warnings(), tt.warnings)
			}
		})
	}

	_, err := Load(context.Background(), nil, LoadOptions{Requirements: dir})
	if err == nil || !strings.HasPrefix(err.Error(), dir+": cannot read requirements: ") {
		t.Errorf("a directory as requirements: got %v", err)
	}
	big := filepath.Join(dir, "big.toml")
	writeFile(t, big, "# "+strings.Repeat("x", 100)+"\n")
	_, err = Load(context.Background(), nil, LoadOptions{Requirements: big, Limits: Limits{MaxFileBytes: 64}})
	if err == nil || err.Error() != big+": requirements file is larger than 64 bytes" {
		t.Errorf("oversized requirements: got %v", err)
	}
	_, err = Load(context.Background(), nil, LoadOptions{Requirements: requirementsFile("order", "requirements.toml"), Limits: Limits{MaxRules: 4}})
	if err == nil || !strings.Contains(err.Error(), "too many rules (limit 4") {
		t.Errorf("requirements beyond the rule limit: got %v", err)
	}
}

// TestRequirementsTrust: requirement rules go through program trust exactly
// as file rules do (Evaluate): on a trusted executable they all
// apply; on an untrusted one (inside a writable root, or a relative path)
// only forbidden ones do, because a prompt that the user accepts escalates,
// and an untrusted program must never run outside the sandbox on the
// strength of a basename rule. It then runs sandboxed.
func TestRequirementsTrust(t *testing.T) {
	T := trustFixture(t)
	ws := filepath.Join(T, "ws")
	req := filepath.Join(t.TempDir(), "requirements.toml")
	writeFile(t, req, `[rules]
prefix_rules = [
  { pattern = [{ token = "git" }, { token = "push" }], decision = "forbidden", justification = "admin: no push" },
  { pattern = [{ token = "git" }, { token = "status" }], decision = "prompt", justification = "admin: ask" },
]
`)
	p := loadWithRequirements(t, req, rulesFile("trust", "git.rules"))
	tests := []struct {
		name     string
		exec     Exec
		decision Decision
		applied  bool
		rule     string // justification of the deciding rule
	}{
		{"trusted: forbidden requirement beats the file's forbidden (last on ties)",
			Exec{Program: T + "/usr/bin/git", Args: []string{"push"}, WritableRoots: []string{ws}}, Forbidden, true, "admin: no push"},
		{"trusted: prompt requirement beats the file's allow",
			Exec{Program: T + "/usr/bin/git", Args: []string{"status"}, WritableRoots: []string{ws}}, Prompt, true, "admin: ask"},
		{"untrusted: forbidden requirement applies",
			Exec{Program: ws + "/git", Args: []string{"push"}, WritableRoots: []string{ws}}, Forbidden, false, "admin: no push"},
		{"untrusted: prompt requirement does not (runs sandboxed)",
			Exec{Program: ws + "/git", Args: []string{"status"}, WritableRoots: []string{ws}}, None, false, ""},
		{"relative: forbidden requirement applies",
			Exec{Program: "git", Args: []string{"push", "origin"}}, Forbidden, false, "admin: no push"},
		{"relative: prompt requirement does not",
			Exec{Program: "git", Args: []string{"status"}}, None, false, ""},
		{"preserve_program_paths: basename requirements do not apply",
			Exec{Program: T + "/usr/bin/git", Args: []string{"push"}, PreserveProgramPaths: true}, None, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := p.Evaluate(tt.exec)
			if v.Decision != tt.decision || v.Basename.Applied != tt.applied || v.Justification() != tt.rule {
				t.Errorf("got %v applied %v rule %q, want %v %v %q (%s)", v.Decision, v.Basename.Applied, v.Justification(),
					tt.decision, tt.applied, tt.rule, v.Basename.Reason)
			}
			if tt.rule != "" && !v.Rule.Requirement {
				t.Errorf("deciding rule %+v is not the requirement", v.Rule)
			}
		})
	}
}

// TestWithRuleKeepsRequirementsLast: an amended rule goes before the
// program's requirement rules, where a reload of the amended file puts it.
func TestWithRuleKeepsRequirementsLast(t *testing.T) {
	p := loadWithRequirements(t, requirementsFile("order", "requirements.toml"), requirementsFile("order", "user.rules"))
	q := p.WithRule(&PrefixRule{Program: "rm", Decision: Allow})
	var got []string
	for _, r := range q.Rules("rm") {
		got = append(got, r.Decision.String()+" "+r.Justification)
	}
	want := []string{"allow I know what I am doing", "allow ", "prompt recursive deletes need a human", "forbidden "}
	if !slices.Equal(got, want) {
		t.Errorf("rm rules after WithRule\n got %q\nwant %q", got, want)
	}
	if len(p.Rules("rm")) != 3 || q.Len() != p.Len()+1 {
		t.Errorf("WithRule changed the original or did not add")
	}
	if file, n := q.Requirements(); file == "" || n != 5 {
		t.Errorf("WithRule lost the requirements: %q, %d", file, n)
	}
	r := q.WithRule(&PrefixRule{Program: "rm", Decision: Prompt, Requirement: true})
	if rules := r.Rules("rm"); !rules[len(rules)-1].Requirement || rules[len(rules)-1].Decision != Prompt {
		t.Errorf("a requirement rule is not appended last")
	}
	// A program without requirements: plain append.
	if rules := q.WithRule(&PrefixRule{Program: "ls", Decision: Allow}).Rules("ls"); len(rules) != 1 {
		t.Errorf("ls rules %v", rules)
	}
}

func TestSourcesRequirementsFile(t *testing.T) {
	tests := []struct {
		system, want string
	}{
		{"", "/etc/codex/requirements.toml"},
		{"/opt/codex", "/opt/codex/requirements.toml"},
		{"-", ""},
	}
	for _, tt := range tests {
		if got := (Sources{SystemDir: tt.system}).RequirementsFile(); got != tt.want {
			t.Errorf("SystemDir %q: RequirementsFile() = %q, want %q", tt.system, got, tt.want)
		}
	}
}
