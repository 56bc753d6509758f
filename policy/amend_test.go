package policy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestAmend(t *testing.T) {
	tests := []struct {
		name    string
		initial *string // nil: no file
		amends  [][]string
		want    string
	}{
		{"twice", nil, [][]string{{"python3"}, {"python3"}}, "prefix_rule(pattern=[\"python3\"], decision=\"allow\")\n"},
		{"fresh", nil, [][]string{{"echo", "Hello, world!"}}, "prefix_rule(pattern=[\"echo\", \"Hello, world!\"], decision=\"allow\")\n"},
		{"missing newline fixed", ptr(`prefix_rule(pattern=["ls"], decision="allow")`), [][]string{{"pwd"}},
			"prefix_rule(pattern=[\"ls\"], decision=\"allow\")\nprefix_rule(pattern=[\"pwd\"], decision=\"allow\")\n"},
		{"identical line without newline left alone", ptr(`prefix_rule(pattern=["ls"], decision="allow")`), [][]string{{"ls"}},
			`prefix_rule(pattern=["ls"], decision="allow")`},
		{"crlf line counts as identical", ptr("prefix_rule(pattern=[\"ls\"], decision=\"allow\")\r\n"), [][]string{{"ls"}},
			"prefix_rule(pattern=[\"ls\"], decision=\"allow\")\r\n"},
		{"trailing space defeats dedup", ptr("prefix_rule(pattern=[\"ls\"], decision=\"allow\") \n"), [][]string{{"ls"}},
			"prefix_rule(pattern=[\"ls\"], decision=\"allow\") \nprefix_rule(pattern=[\"ls\"], decision=\"allow\")\n"},
		{"json escaping", nil, [][]string{{"python3", "-c", "print('Hello, \"wörld\"')", "a\\b\n\t\x01"}},
			"prefix_rule(pattern=[\"python3\", \"-c\", \"print('Hello, \\\"wörld\\\"')\", \"a\\\\b\\n\\t\\u0001\"], decision=\"allow\")\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			path := DefaultRulesFile(home)
			if tt.initial != nil {
				writeFile(t, path, *tt.initial)
			}
			for _, tokens := range tt.amends {
				if err := Amend(home, tokens); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("file\n got: %q\nwant: %q", got, tt.want)
			}
			p := mustLoad(t, path) // amended files stay loadable
			if last := tt.amends[len(tt.amends)-1]; p.Check(last).Decision != Allow {
				t.Errorf("amended command %q not allowed by the file", last)
			}
		})
	}
}

func TestAmendModesAndErrors(t *testing.T) {
	home := t.TempDir()
	if err := Amend(home, []string{"ls"}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{filepath.Join(home, "rules"): 0o700, DefaultRulesFile(home): 0o600} {
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, err %v; want %v", path, st.Mode().Perm(), err, want)
		}
	}
	if err := Amend(home, nil); err == nil || err.Error() != "prefix rule requires at least one token" {
		t.Errorf("empty prefix: %v", err)
	}
	missing := filepath.Join(home, "does-not-exist")
	if err := Amend(missing, []string{"ls"}); err == nil || !strings.Contains(err.Error(), "failed to create policy directory "+filepath.Join(missing, "rules")) {
		t.Errorf("missing home: %v", err)
	}
}

// TestAmendConcurrent: 20 goroutines amend distinct and identical rules;
// each distinct rule ends up exactly once and the file still loads.
func TestAmendConcurrent(t *testing.T) {
	home := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, tokens := range [][]string{{"cmd", fmt.Sprint(i)}, {"shared", "rule"}} {
				if err := Amend(home, tokens); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	content, err := os.ReadFile(DefaultRulesFile(home))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(content), "\n"), "\n")
	if len(lines) != 21 {
		t.Errorf("%d lines, want 21:\n%s", len(lines), content)
	}
	counts := map[string]int{}
	for _, l := range lines {
		counts[l]++
	}
	for l, n := range counts {
		if n != 1 {
			t.Errorf("%q appears %d times", l, n)
		}
	}
	p := mustLoad(t, DefaultRulesFile(home))
	if p.Len() != 21 || p.Check([]string{"cmd", "7"}).Decision != Allow || p.Check([]string{"shared", "rule"}).Decision != Allow {
		t.Errorf("amended file loads %d rules", p.Len())
	}
}

func TestStoreReload(t *testing.T) {
	home := t.TempDir()
	rules := filepath.Join(home, "rules")
	a := filepath.Join(rules, "a.rules")
	writeFile(t, a, `prefix_rule(pattern=["ls"], decision="allow")`+"\n")
	src := Sources{SystemDir: "-", Home: home}
	s, err := NewStore(context.Background(), src.List, StoreOptions{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	check := func(cmd string, want Decision, wantErr string) {
		t.Helper()
		p, err := s.Policy(context.Background())
		if got := p.Check(strings.Fields(cmd)).Decision; got != want {
			t.Errorf("%s: decision %v, want %v", cmd, got, want)
		}
		if (err == nil) != (wantErr == "") || err != nil && !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: err %v, want %q", cmd, err, wantErr)
		}
	}
	check("ls", Allow, "")
	if v, err := s.Evaluate(context.Background(), Exec{Program: "ls", Args: []string{"-l"}}); err != nil || v.Source != FromHeuristics || v.Source.String() != "heuristics" {
		t.Errorf("Store.Evaluate of a relative program: %+v, %v", v, err)
	}

	// Edit (different size so the change is visible whatever the mtime granularity).
	writeFile(t, a, `prefix_rule(pattern=["ls"], decision="forbidden", justification="edited")`+"\n")
	check("ls", Forbidden, "")

	// A new file in the directory.
	writeFile(t, filepath.Join(rules, "b.rules"), `prefix_rule(pattern=["pwd"], decision="prompt")`+"\n")
	check("pwd", Prompt, "")

	// Break a file: the previous policy stays, the error names the file.
	writeFile(t, a, `prefix_rule(pattern=["ls"], decision="bogus")`+"\n")
	check("ls", Forbidden, a+":1:12: invalid decision: bogus")
	check("pwd", Prompt, "invalid decision: bogus") // still reported, not re-parsed

	// Amend: in memory at once, and on disk.
	if err := s.Amend([]string{"git", "status"}); err != nil {
		t.Fatal(err)
	}
	p, _ := s.Policy(context.Background()) // default.rules appeared: reload attempted, a.rules still broken
	if p.Check([]string{"git", "status"}).Decision != Allow {
		t.Errorf("amended rule not in effect")
	}

	// Fix the file: reload succeeds, error cleared, amended rule read from disk.
	writeFile(t, a, `prefix_rule(pattern=["ls"], decision="allow")`+"\n")
	check("git status", Allow, "")
	check("ls", Allow, "")

	// Remove a file.
	if err := os.Remove(filepath.Join(rules, "b.rules")); err != nil {
		t.Fatal(err)
	}
	check("pwd", None, "")
}

func TestNewStoreFailsOnBrokenRules(t *testing.T) {
	bad := rulesFile("errors", "decision.rules")
	_, err := NewStore(context.Background(), func() ([]string, error) { return []string{bad}, nil }, StoreOptions{})
	if err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("got %v", err)
	}
}

func ptr(s string) *string { return &s }
