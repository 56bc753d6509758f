package policy

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"
)

// Store holds the current policy and reloads it when the rules change:
// each call to Policy re-lists the rules files and stats them and the
// requirements file (at most once per CheckInterval), and reloads when a
// file was added, removed or modified. A failed reload keeps the last good
// policy and reports the error until a reload succeeds. Store is safe for
// concurrent use.
type Store struct {
	list          func() ([]string, error)
	vet           func(files []string) error
	opts          LoadOptions
	checkInterval time.Duration
	home          string

	mu        sync.Mutex
	policy    *Policy
	seen      snapshot // what the current policy, or the last failed attempt, was built from
	lastCheck time.Time
	reloadErr error
}

// StoreOptions configure NewStore.
type StoreOptions struct {
	// Load is passed to Load on every (re)load.
	Load LoadOptions
	// CheckInterval rate-limits the stat calls; 0 checks on every call.
	CheckInterval time.Duration
	// Home is where Amend writes ($CODEX_HOME); empty disables Amend.
	Home string
	// Vet, if set, is asked about the files (the rules files, then the
	// requirements file if any) before every load: an error fails the
	// initial load, and keeps a reload from happening (the last good
	// policy stays, and the error is reported until Vet accepts the files).
	// It is how a caller refuses files that became unsafe to read.
	Vet func(files []string) error
}

type fileStamp struct {
	path    string
	size    int64
	mtime   int64 // nanoseconds
	missing bool
}

// snapshot is the state of every file a policy is built from.
type snapshot struct {
	files []fileStamp
	req   fileStamp // zero when no requirements file is configured
}

func (a snapshot) equal(b snapshot) bool {
	return a.req == b.req && slices.Equal(a.files, b.files)
}

// NewStore lists the rules files with list and loads them. The initial
// load must succeed: there is no earlier policy to fall back to.
func NewStore(ctx context.Context, list func() ([]string, error), opts StoreOptions) (*Store, error) {
	s := &Store{list: list, vet: opts.Vet, opts: opts.Load, checkInterval: opts.CheckInterval, home: opts.Home}
	snap, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	if err := s.vetted(snap); err != nil {
		return nil, err
	}
	p, err := Load(ctx, pathsOf(snap.files), s.opts)
	if err != nil {
		return nil, err
	}
	s.policy, s.seen, s.lastCheck = p, snap, time.Now()
	return s, nil
}

// Policy returns the current policy, reloading it first if the rules
// changed. err is non-nil when the latest reload failed: p is then the last
// good policy, still in force, and err says which file is broken.
func (s *Store) Policy(ctx context.Context) (p *Policy, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.checkInterval > 0 && time.Since(s.lastCheck) < s.checkInterval {
		return s.policy, s.reloadErr
	}
	s.lastCheck = time.Now()
	snap, err := s.snapshot()
	if err != nil {
		s.reloadErr = fmt.Errorf("rules not reloaded, keeping the previous policy: %w", err)
		return s.policy, s.reloadErr
	}
	if snap.equal(s.seen) {
		return s.policy, s.reloadErr
	}
	// Not remembered as seen: a refusal is reconsidered at the next check.
	if err := s.vetted(snap); err != nil {
		s.reloadErr = fmt.Errorf("rules not reloaded, keeping the previous policy: %w", err)
		return s.policy, s.reloadErr
	}
	s.seen = snap // a broken file is not re-parsed until it changes again
	np, err := Load(ctx, pathsOf(snap.files), s.opts)
	if err != nil {
		s.reloadErr = fmt.Errorf("rules not reloaded, keeping the previous policy: %w", err)
		return s.policy, s.reloadErr
	}
	s.policy, s.reloadErr = np, nil
	return s.policy, nil
}

// Amend writes an "always allow" rule for tokens (see Amend) and adds it to
// the in-memory policy at once; the next reload reads it from the file.
func (s *Store) Amend(tokens []string) error {
	if s.home == "" {
		return fmt.Errorf("cannot append rule: no rules home configured")
	}
	if err := Amend(s.home, tokens); err != nil {
		return err
	}
	s.Amended(tokens)
	return nil
}

// Amended adds to the in-memory policy the rule another Store's Amend
// wrote for tokens (Stores that share a home and differ in their other
// rules), so that it takes effect at once here too rather than at the next
// reload. Adding a rule the policy already read from the file is harmless:
// the same allow twice decides the same. It does nothing without a home or
// tokens.
func (s *Store) Amended(tokens []string) {
	if s.home == "" || len(tokens) == 0 {
		return
	}
	rule := &PrefixRule{Program: tokens[0], Decision: Allow, Pos: Pos{File: DefaultRulesFile(s.home)}}
	for _, t := range tokens[1:] {
		rule.Rest = append(rule.Rest, Token{t})
	}
	s.mu.Lock()
	s.policy = s.policy.WithRule(rule)
	s.mu.Unlock()
}

func (s *Store) snapshot() (snapshot, error) {
	files, err := s.list()
	if err != nil {
		return snapshot{}, err
	}
	snap := snapshot{files: make([]fileStamp, len(files))}
	for i, f := range files {
		snap.files[i] = stamp(f)
	}
	if r := s.opts.Requirements; r != "" {
		snap.req = stamp(r)
	}
	return snap, nil
}

// vetted asks Vet about the files snap was taken of.
func (s *Store) vetted(snap snapshot) error {
	if s.vet == nil {
		return nil
	}
	files := pathsOf(snap.files)
	if snap.req.path != "" {
		files = append(files, snap.req.path)
	}
	return s.vet(files)
}

func stamp(path string) fileStamp {
	st, err := os.Stat(path)
	if err != nil {
		return fileStamp{path: path, missing: true}
	}
	return fileStamp{path: path, size: st.Size(), mtime: st.ModTime().UnixNano()}
}

func pathsOf(stamps []fileStamp) []string {
	out := make([]string, len(stamps))
	for i, s := range stamps {
		out[i] = s.path
	}
	return out
}

// Evaluate evaluates e against the current policy (reloading first if the
// rules changed). A non-nil error reports a failed reload; the verdict is
// then from the last good policy and remains valid.
func (s *Store) Evaluate(ctx context.Context, e Exec) (Verdict, error) {
	p, err := s.Policy(ctx)
	return p.Evaluate(e), err
}
