package engine

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/execgate/execgate/policy"
)

// ruleWatch makes every change of a store's rule set visible: a rules file
// that fails to load (the previous rules stay in force), one that is gone
// or emptied, rules added or dropped. Each change is logged and returned
// once, for the note of the next call that uses the store, naming the file
// and how many rules of each decision it adds or drops. Without this a
// rules file truncated to nothing would drop its forbidden rules without a
// word to the agent or the user.
type ruleWatch struct {
	mu   sync.Mutex
	seen map[*policy.Store]ruleState
}

// ruleState is what was last reported of a store.
type ruleState struct {
	policy *policy.Policy
	counts map[string]policy.RuleCounts
	err    string // the reload error last reported, "" if none
}

// changes returns what changed in s's rule set since the last call, and
// logs it. The first look at a store takes its rules as they are.
func (w *ruleWatch) changes(ctx context.Context, s *policy.Store, log *slog.Logger) []string {
	p, err := s.Policy(ctx)
	errText := ""
	if err != nil {
		errText = err.Error()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen == nil {
		w.seen = map[*policy.Store]ruleState{}
	}
	prev, ok := w.seen[s]
	if !ok {
		prev = ruleState{policy: p, counts: p.RulesByFile()}
	}
	var notes []string
	if errText != "" && errText != prev.err {
		// The store's error names the file and says the previous rules stay.
		notes = append(notes, errText)
		log.Warn("rules file failed to load", "error", err)
	}
	next := ruleState{policy: prev.policy, counts: prev.counts, err: errText}
	if p != prev.policy {
		counts := p.RulesByFile()
		for _, c := range countChanges(prev.counts, counts) {
			notes = append(notes, c.text)
			if c.weakened {
				log.Warn("rules changed", "change", c.text)
			} else {
				log.Info("rules changed", "change", c.text)
			}
		}
		next.policy, next.counts = p, counts
	}
	w.seen[s] = next
	return notes
}

// forget drops what is known of the stores no longer loaded (keep says
// which are) once there are more than max, so the watch stays about as
// small as the store cache.
func (w *ruleWatch) forget(max int, keep func(*policy.Store) bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.seen) > max {
		maps.DeleteFunc(w.seen, func(s *policy.Store, _ ruleState) bool { return !keep(s) })
	}
}

type countChange struct {
	text     string
	weakened bool // forbidden or prompt rules dropped
}

// countChanges describes, file by file in order, how the rule counts went
// from before to after.
func countChanges(before, after map[string]policy.RuleCounts) []countChange {
	files := slices.Sorted(maps.Keys(before))
	for f := range after {
		if _, ok := before[f]; !ok {
			files = append(files, f)
		}
	}
	slices.Sort(files)
	var out []countChange
	for _, f := range files {
		b, inBefore := before[f]
		a, inAfter := after[f]
		if inBefore && inAfter && a == b {
			continue
		}
		c := countChange{weakened: a.Forbidden < b.Forbidden || a.Prompt < b.Prompt}
		name := Printable(f)
		switch {
		case !inAfter:
			c.text = fmt.Sprintf("rules file %s is gone; dropped: %s", name, describeCounts(b))
		case !inBefore:
			c.text = fmt.Sprintf("rules file %s added: %s", name, describeCounts(a))
		case a.Total() == 0:
			c.text = fmt.Sprintf("rules file %s is now empty; dropped: %s", name, describeCounts(b))
		default:
			c.text = fmt.Sprintf("rules file %s changed: %s", name, describeDelta(b, a))
		}
		out = append(out, c)
	}
	return out
}

// describeCounts is "2 forbidden, 1 prompt and 3 allow rules" (zeros left
// out; "no rules" when all are).
func describeCounts(c policy.RuleCounts) string {
	var parts []string
	for _, d := range []struct {
		n    int
		name string
	}{{c.Forbidden, "forbidden"}, {c.Prompt, "prompt"}, {c.Allow, "allow"}} {
		if d.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", d.n, d.name))
		}
	}
	switch len(parts) {
	case 0:
		return "no rules"
	case 1:
		return parts[0] + plural(c.Total(), " rule", " rules")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1] + " rules"
}

// describeDelta is "forbidden 3 → 1, allow 0 → 2".
func describeDelta(b, a policy.RuleCounts) string {
	var parts []string
	for _, d := range []struct {
		name     string
		was, now int
	}{{"forbidden", b.Forbidden, a.Forbidden}, {"prompt", b.Prompt, a.Prompt}, {"allow", b.Allow, a.Allow}} {
		if d.was != d.now {
			parts = append(parts, fmt.Sprintf("%s rules %d → %d", d.name, d.was, d.now))
		}
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
