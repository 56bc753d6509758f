package engine

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/execgate/execgate/policy"
)

// maxProjectStores bounds the project policies kept loaded. Each holds a
// parsed copy of the shared rules too, so the bound is what keeps the
// server's memory flat however many projects an agent visits; a project
// evicted is simply loaded again on its next call.
const maxProjectStores = 16

// stores hands each call the policy of its project: the shared rules
// (system, home, --rules) plus the rules directories of the trusted
// project the call runs in. Calls whose projects resolve to the same rules
// directories share one policy.Store, so a hundred subdirectories of one
// repository cost one load; calls outside any trusted project share the
// base store, which is never evicted. Safe for concurrent use.
type stores struct {
	sources policy.Sources // the shared layers: Cwd and Projects empty
	opts    policy.StoreOptions
	base    *policy.Store
	max     int

	mu     sync.Mutex
	recent []storeEntry // most recently used first, at most max
}

type storeEntry struct {
	key   string // the project rules directories, NUL-separated
	store *policy.Store
}

// newStores loads the base store: its failure (a broken shared rules file
// at startup) fails the engine, as it always has.
func newStores(ctx context.Context, sources policy.Sources, opts policy.StoreOptions) (*stores, error) {
	sources.Cwd, sources.Projects = "", nil
	base, err := sources.NewStore(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &stores{sources: sources, opts: opts, base: base, max: maxProjectStores}, nil
}

// get returns the store for the project rules directories dirs (as
// policy.Sources.ProjectRulesDirs lists them), loading it on first use. A
// project whose rules fail to load gets an error naming the file, never a
// policy without them: they may forbid what the shared rules allow.
func (c *stores) get(ctx context.Context, dirs []string) (*policy.Store, error) {
	if len(dirs) == 0 {
		return c.base, nil
	}
	key := strings.Join(dirs, "\x00")
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.recent {
		if e.key == key {
			copy(c.recent[1:i+1], c.recent[:i])
			c.recent[0] = e
			return e.store, nil
		}
	}
	// Loading under the lock keeps two calls from loading one project
	// twice; it happens once per project, not per call.
	src := c.sources
	src.Projects = slices.Clone(dirs)
	s, err := src.NewStore(ctx, c.opts)
	if err != nil {
		return nil, err
	}
	if len(c.recent) == c.max {
		c.recent = c.recent[:c.max-1] // the least recently used; calls holding it keep it
	}
	c.recent = append(c.recent, storeEntry{})
	copy(c.recent[1:], c.recent)
	c.recent[0] = storeEntry{key: key, store: s}
	return s, nil
}

// amend records an "always allow" through via (writing the home's
// default.rules once) and adds the rule to every other loaded store, so the
// calls of every project see it at once. The file is written outside the
// lock: a lock another process holds on it must not stall other calls. A
// store loaded from the file just before the write and cached just after
// the broadcast misses the rule only until its next change check, which
// sees default.rules changed; a store evicted earlier reads the rule when
// it is loaded again.
func (c *stores) amend(via *policy.Store, tokens []string) error {
	if err := via.Amend(tokens); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.loaded() {
		if s != via {
			s.Amended(tokens)
		}
	}
	return nil
}

// isLoaded reports whether s is one of the loaded stores.
func (c *stores) isLoaded(s *policy.Store) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Contains(c.loaded(), s)
}

// loaded lists the loaded stores, the base one first; c.mu is held.
func (c *stores) loaded() []*policy.Store {
	out := []*policy.Store{c.base}
	for _, e := range c.recent {
		out = append(out, e.store)
	}
	return out
}
