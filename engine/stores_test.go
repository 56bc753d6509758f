package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/execgate/execgate/internal/testhelp"
	"github.com/execgate/execgate/policy"
)

// newTestStores is a store cache over home (holding rules/h.rules) and
// n projects root/p<i>/rules, each forbidding its own program p<i>.
func newTestStores(t *testing.T, n int) (c *stores, home string, projects []string) {
	t.Helper()
	root := t.TempDir()
	home = filepath.Join(root, "home")
	testhelp.WriteFile(t, filepath.Join(home, "rules", "h.rules"), `prefix_rule(pattern=["ls"], decision="allow")`+"\n")
	for i := range n {
		dir := filepath.Join(root, fmt.Sprint("p", i), "rules")
		testhelp.WriteFile(t, filepath.Join(dir, "p.rules"), fmt.Sprintf(`prefix_rule(pattern=["p%d"], decision="forbidden")`+"\n", i))
		projects = append(projects, dir)
	}
	// An hour: nothing below may pass by a reload.
	c, err := newStores(context.Background(), policy.Sources{SystemDir: "-", Home: home}, policy.StoreOptions{Home: home, CheckInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return c, home, projects
}

func decisionOf(t *testing.T, s *policy.Store, cmd ...string) policy.Decision {
	t.Helper()
	p, err := s.Policy(context.Background())
	if err != nil {
		t.Error(err) // not Fatal: goroutines use this too
	}
	return p.Check(cmd).Decision
}

func TestStoresShareByProject(t *testing.T) {
	c, _, projects := newTestStores(t, 2)
	ctx := context.Background()
	get := func(dirs ...string) *policy.Store {
		t.Helper()
		s, err := c.get(ctx, dirs)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base, p0, p1 := get(), get(projects[0]), get(projects[1])
	both := get(projects[0], projects[1])
	tests := []struct {
		name       string
		store      *policy.Store
		p0, p1, ls policy.Decision
	}{
		{"no project: the shared rules", base, policy.None, policy.None, policy.Allow},
		{"project 0", p0, policy.Forbidden, policy.None, policy.Allow},
		{"project 1", p1, policy.None, policy.Forbidden, policy.Allow},
		{"nested projects", both, policy.Forbidden, policy.Forbidden, policy.Allow},
	}
	for _, tt := range tests {
		if got := [3]policy.Decision{decisionOf(t, tt.store, "p0"), decisionOf(t, tt.store, "p1"), decisionOf(t, tt.store, "ls")}; got != [3]policy.Decision{tt.p0, tt.p1, tt.ls} {
			t.Errorf("%s: p0, p1, ls = %v, want %v %v %v", tt.name, got, tt.p0, tt.p1, tt.ls)
		}
	}
	if base != c.base || get() != base || get(projects[0]) != p0 || get(projects[0], projects[1]) != both {
		t.Error("the same directories gave another store")
	}
	if len(c.recent) != 3 {
		t.Errorf("%d project stores cached, want 3", len(c.recent))
	}
}

// At most max project stores stay loaded, the least recently used leaving
// first; the base store never leaves.
func TestStoresEviction(t *testing.T) {
	c, _, projects := newTestStores(t, maxProjectStores+2)
	ctx := context.Background()
	first := make([]*policy.Store, len(projects))
	for i, p := range projects[:maxProjectStores] {
		s, err := c.get(ctx, []string{p})
		if err != nil {
			t.Fatal(err)
		}
		first[i] = s
	}
	// Touch project 0: project 1 is now the least recently used.
	if s, _ := c.get(ctx, []string{projects[0]}); s != first[0] {
		t.Fatal("cached store not reused")
	}
	for _, p := range projects[maxProjectStores:] {
		if _, err := c.get(ctx, []string{p}); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.recent) != maxProjectStores {
		t.Errorf("%d stores cached, want %d", len(c.recent), maxProjectStores)
	}
	tests := []struct {
		project int
		kept    bool
	}{{0, true}, {1, false}, {2, false}, {3, true}, {maxProjectStores - 1, true}}
	for _, tt := range tests {
		// Check the cache without get, which would reload and reorder it.
		cached := false
		for _, e := range c.recent {
			cached = cached || e.store == first[tt.project]
		}
		if cached != tt.kept {
			t.Errorf("project %d cached = %v, want %v", tt.project, cached, tt.kept)
		}
	}
	s, err := c.get(ctx, []string{projects[1]})
	if err != nil || s == first[1] || decisionOf(t, s, "p1") != policy.Forbidden {
		t.Errorf("an evicted project is not loaded again: %v", err)
	}
	if c.loaded()[0] != c.base {
		t.Error("the base store left the cache")
	}
}

// A project whose rules do not load fails its calls, naming the file; it
// is not cached, and other projects are unaffected.
func TestStoresBrokenProject(t *testing.T) {
	c, _, projects := newTestStores(t, 1)
	bad := filepath.Join(filepath.Dir(projects[0]), "rules", "bad.rules")
	testhelp.WriteFile(t, bad, `prefix_rule(pattern=["x"], decision="bogus")`+"\n")
	if _, err := c.get(context.Background(), projects); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("err = %v, want one naming %s", err, bad)
	}
	if len(c.recent) != 0 {
		t.Errorf("a failed project was cached")
	}
	if s, err := c.get(context.Background(), nil); err != nil || decisionOf(t, s, "ls") != policy.Allow {
		t.Errorf("base store: %v", err)
	}
}

// "Always allow" through one store takes effect in every loaded store at
// once (their reload is an hour away), and on disk for the others.
func TestStoresAmendReachesEveryStore(t *testing.T) {
	c, home, projects := newTestStores(t, 3)
	ctx := context.Background()
	var loaded []*policy.Store
	for _, p := range projects[:2] {
		s, err := c.get(ctx, []string{p})
		if err != nil {
			t.Fatal(err)
		}
		loaded = append(loaded, s)
	}
	if err := c.amend(loaded[0], []string{"cargo", "build"}); err != nil {
		t.Fatal(err)
	}
	later, err := c.get(ctx, projects[2:]) // loaded after: reads default.rules
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range append(loaded, c.base, later) {
		if got := decisionOf(t, s, "cargo", "build", "--release"); got != policy.Allow {
			t.Errorf("store %d: cargo build = %v, want allow", i, got)
		}
	}
	if got := decisionOf(t, loaded[1], "p1"); got != policy.Forbidden {
		t.Errorf("the amend lost project 1's rules: p1 = %v", got)
	}
	if err := c.amend(c.base, nil); err == nil {
		t.Error("empty amendment accepted")
	}
	got, err := os.ReadFile(filepath.Join(home, "rules", "default.rules"))
	if err != nil || string(got) != `prefix_rule(pattern=["cargo", "build"], decision="allow")`+"\n" {
		t.Errorf("default.rules = %q, %v", got, err)
	}
}

// Concurrent calls over a few projects, amending meanwhile, share stores
// without races (run with -race).
func TestStoresConcurrent(t *testing.T) {
	c, _, projects := newTestStores(t, 4)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			s, err := c.get(context.Background(), []string{projects[i%len(projects)]})
			if err != nil {
				t.Error(err)
				return
			}
			if i%8 == 0 {
				if err := c.amend(s, []string{fmt.Sprint("tool", i)}); err != nil {
					t.Error(err)
				}
			}
			if got := decisionOf(t, s, fmt.Sprint("p", i%len(projects))); got != policy.Forbidden {
				t.Errorf("call %d: %v", i, got)
			}
		})
	}
	wg.Wait()
	if len(c.recent) != len(projects) {
		t.Errorf("%d stores for %d projects", len(c.recent), len(projects))
	}
	for _, s := range c.loaded() {
		for i := 0; i < 32; i += 8 {
			if got := decisionOf(t, s, fmt.Sprint("tool", i)); got != policy.Allow {
				t.Errorf("tool%d = %v in a loaded store", i, got)
			}
		}
	}
}
