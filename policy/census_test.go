package policy

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestRulesByFile(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.rules")
	empty := filepath.Join(dir, "empty.rules")
	os.WriteFile(a, []byte(`prefix_rule(pattern=[["git", "hg"], "push"], decision="prompt")
prefix_rule(pattern=["rm"], decision="forbidden")
prefix_rule(pattern=["ls"], decision="allow")
`), 0o600)
	os.WriteFile(empty, nil, 0o600)
	p, err := Load(context.Background(), []string{a, empty}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := p.RulesByFile()
	if got[a] != (RuleCounts{Allow: 1, Prompt: 2, Forbidden: 1}) || got[empty] != (RuleCounts{}) || len(got) != 2 {
		t.Errorf("RulesByFile = %+v", got)
	}
	if got[a].Total() != p.Len() {
		t.Errorf("total %d, Len %d", got[a].Total(), p.Len())
	}
}
