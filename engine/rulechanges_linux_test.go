package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/execgate/execgate/internal/testhelp"
)

// Every change of the rule set is reported once, in the note of the next
// call, naming the file and the rules of each decision it drops or adds.
func TestEngineReportsRuleChanges(t *testing.T) {
	te := newTestEngine(t, `prefix_rule(pattern=["rm"], decision="forbidden")
prefix_rule(pattern=["shred"], decision="forbidden")
prefix_rule(pattern=["git", "push"], decision="prompt")
prefix_rule(pattern=["ls"], decision="allow")
`, nil)
	dir := filepath.Join(te.home, "rules")
	a, b, c := filepath.Join(dir, "test.rules"), filepath.Join(dir, "b.rules"), filepath.Join(dir, "c.rules")
	testhelp.WriteFile(t, b, `prefix_rule(pattern=["dd"], decision="forbidden")`+"\n")
	ws := t.TempDir()
	call := func() string {
		t.Helper()
		time.Sleep(rulesCheckInterval + 50*time.Millisecond) // past the change checks' rate limit
		res, err := Execute(context.Background(), te, te.opts, nil, Request{ID: "c", Command: "true", Workdir: ws, Mode: ModeWorkspaceWrite, Workspace: []string{ws}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Note
	}
	steps := []struct {
		name   string
		change func()
		want   []string // "" : no note
	}{
		{"a file added after start", func() {}, []string{"rules file " + b + " added: 1 forbidden rule"}},
		{"nothing changed", func() {}, nil},
		{"a file emptied", func() { os.WriteFile(a, nil, 0o600) }, []string{"rules file " + a + " is now empty; dropped: 2 forbidden, 1 prompt and 1 allow rules"}},
		{"reported once", func() {}, nil},
		{"a file deleted", func() { os.Remove(b) }, []string{"rules file " + b + " is gone; dropped: 1 forbidden rule"}},
		{"a file that fails to load", func() { testhelp.WriteFile(t, c, "prefix_rule(pattern=[\"x\"], decision=\"allow\"\n") }, []string{"rules not reloaded, keeping the previous policy", c}},
		{"the error reported once", func() {}, nil},
		{"the file fixed", func() { testhelp.WriteFile(t, c, `prefix_rule(pattern=["x"], decision="allow")`+"\n") }, []string{"rules file " + c + " added: 1 allow rule"}},
		{"rules added to a file", func() {
			testhelp.WriteFile(t, a, `prefix_rule(pattern=["rm"], decision="forbidden")`+"\n"+`prefix_rule(pattern=["ls"], decision="allow")`+"\n"+`prefix_rule(pattern=["cat"], decision="allow")`+"\n")
		}, []string{"rules file " + a + " changed: forbidden rules 0 → 1, allow rules 0 → 2"}},
		{"rules dropped from a file", func() {
			testhelp.WriteFile(t, a, `prefix_rule(pattern=["ls"], decision="allow")`+"\n")
		}, []string{"rules file " + a + " changed: forbidden rules 1 → 0, allow rules 2 → 1"}},
	}
	for _, s := range steps {
		s.change()
		note := call()
		if len(s.want) == 0 && note != "" {
			t.Errorf("%s: note %q, want none", s.name, note)
		}
		for _, w := range s.want {
			if !strings.Contains(note, w) {
				t.Errorf("%s: note %q lacks %q", s.name, note, w)
			}
		}
	}
}
