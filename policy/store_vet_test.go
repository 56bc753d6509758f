package policy

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// TestStoreVet: Vet sees every file of a load (rules, then requirements);
// its refusal fails the first load, and keeps a reload from happening (the
// last good policy stays, with the error) until it accepts the files.
func TestStoreVet(t *testing.T) {
	root := t.TempDir()
	sys, home := filepath.Join(root, "etc"), filepath.Join(root, "home")
	rules := filepath.Join(home, "rules", "user.rules")
	writeFile(t, rules, `prefix_rule(pattern=["git"], decision="allow")`+"\n")
	var refuse atomic.Bool
	var seen atomic.Value
	vet := func(files []string) error {
		seen.Store(slices.Clone(files))
		if refuse.Load() {
			return errors.New("refused by vet")
		}
		return nil
	}
	src := Sources{SystemDir: sys, Home: home}

	refuse.Store(true)
	if _, err := src.NewStore(context.Background(), StoreOptions{Home: home, Vet: vet}); err == nil || !strings.Contains(err.Error(), "refused by vet") {
		t.Fatalf("first load: err %v, want the vet's refusal", err)
	}
	if want := []string{rules, filepath.Join(sys, RequirementsFileName)}; !slices.Equal(seen.Load().([]string), want) {
		t.Errorf("vet saw %q, want %q", seen.Load(), want)
	}

	refuse.Store(false)
	s, err := src.NewStore(context.Background(), StoreOptions{Home: home, Vet: vet})
	if err != nil {
		t.Fatal(err)
	}
	refuse.Store(true)
	writeFile(t, rules, `prefix_rule(pattern=["git"], decision="forbidden")`+"\n")
	for range 2 { // not remembered as seen: asked again
		p, err := s.Policy(context.Background())
		if err == nil || !strings.Contains(err.Error(), "refused by vet") || p.Check([]string{"git"}).Decision != Allow {
			t.Errorf("refused reload: decision %v, err %v; want the previous policy and the refusal", p.Check([]string{"git"}).Decision, err)
		}
	}
	refuse.Store(false)
	if p, err := s.Policy(context.Background()); err != nil || p.Check([]string{"git"}).Decision != Forbidden {
		t.Errorf("accepted reload: decision %v, err %v; want the new policy", p.Check([]string{"git"}).Decision, err)
	}
}
