package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Layout is the filesystem side of one call's sandbox, resolved when the
// call starts: what Landlock grants and what the helper mounts in its
// private mount namespace. Every policy becomes one, the three modes as well
// as permission profiles, so that there is one place that decides which
// paths a call can read, write, or not see at all.
type Layout struct {
	// Read are the paths readable (and executable) but not writable,
	// symlinks resolved. "/" stands for the whole filesystem.
	Read []string
	// Roots are the writable roots, each with the paths inside it that
	// stay read-only. They are the only source of protected paths: code
	// that needs to know which .git directories a call could not write
	// reads them here (see [Launcher.Layout]).
	Roots []Root
	// WriteFiles are writable files that are not below a writable root
	// (a profile may name single files).
	WriteFiles []string
	// Denied are the paths neither readable nor writable although an
	// enclosing entry grants access: the helper hides each under an empty,
	// read-only mount.
	Denied []string
	// Notes say what of the request was left out (a writable path that
	// does not exist, ...), for the call's result.
	Notes []string

	mounts []mountOp
}

// mountOp is one mount the helper makes, in order, in its private mount
// namespace before it applies Landlock.
type mountOp struct {
	Path string
	Kind string
	// create: when Path is missing, create it as an empty directory first
	// so that the sandbox cannot create it (a protected name). The server
	// turns it into MakeIn and Make (resolveMounts); it does not travel.
	create bool
	// Keep lists, for a mask, the paths below it that later operations
	// mount on: the mask gets an empty directory or file at each.
	Keep []string
	// optional marks execgate's own protected paths, which without
	// namespaces are left unenforced (documented) rather than refused.
	optional bool

	// The rest the server decides when the call starts (resolveMounts),
	// so that the helper only checks identities and mounts.
	//
	// ID is the original's identity, which the helper's open of Path
	// must find; Dir says it is a directory (a mask over anything else
	// is an empty file). Make, for a missing protected name: the helper
	// creates the directories Make[0], Make[0]/Make[1], ... below
	// MakeIn, which must still be the directory the server pinned, as
	// far as it may, and mounts over the deepest it made (ID is then
	// zero). InMask, when not 0, is 1 + the index of an earlier mask Path
	// lies in: once that mask is made, Path is the mask's skeleton entry,
	// not the original, when its turn comes.
	// KeepFile[i] says Keep[i] is a file (the mask gets an empty file
	// there, else a directory).
	ID       fileID
	Dir      bool
	MakeIn   pathID
	Make     []string
	InMask   int
	KeepFile []bool
}

// The kinds of mountOp.
const (
	opReadOnly = "ro"   // a read-only view of the original Path
	opWritable = "rw"   // a writable view of the original Path, inside a read-only or hidden parent
	opMask     = "mask" // an empty, read-only directory or file hides Path
)

// entry is one resolved path of a layout with the access it gets.
type entry struct {
	path   string
	access Access
	// create and optional: see mountOp.
	create, optional bool
	// forced entries are execgate's protected paths: read-only whatever
	// a profile says (only a deny is stronger).
	forced bool
	// weak entries (the shell and the wrapper the call must be able to
	// run) only add a Landlock read rule where nothing grants one; they
	// never cause a mount.
	weak bool
	// dir: the path is a directory (or will be one: a placeholder).
	dir  bool
	from string // what asked for it, for messages
}

// minimalPaths is what the "minimal" special location grants: the system
// directories a shell and ordinary programs need (the list Codex uses on
// Linux, plus the multilib directories and the random devices), skipped
// when missing.
var minimalPaths = []string{
	"/bin", "/sbin", "/usr", "/etc", "/lib", "/lib32", "/lib64", "/libx32",
	"/nix/store", "/run/current-system/sw", "/dev/random", "/dev/urandom",
}

// maxLayoutEntries bounds a layout (globs can match many paths): beyond
// it the call is refused rather than slowed down or half confined.
const maxLayoutEntries = 4096

// layoutOptions are facts about the helper the layout depends on.
type layoutOptions struct {
	// namespaces: the helper can mount. Without, execgate's protected
	// paths go unenforced (documented) and any other mount the layout
	// needs makes it fail.
	namespaces bool
	// privateProc: the helper mounts a /proc of its own pid namespace,
	// which "minimal" then makes readable.
	privateProc bool
}

// Layout resolves s as it would be enforced with user namespaces. It reads
// the filesystem (symlinks, .git files, globs), so call it when the call
// starts.
func (s Spec) Layout() (Layout, error) {
	return s.layout(layoutOptions{namespaces: true})
}

func (s Spec) layout(o layoutOptions) (Layout, error) {
	if !s.Policy.Sandboxed() {
		return Layout{}, nil
	}
	var l Layout
	raw, err := s.entries(o, &l)
	if err != nil {
		return Layout{}, err
	}
	entries, err := resolveEntries(raw, &l)
	if err != nil {
		return Layout{}, err
	}
	entries = addProtected(entries)
	if len(entries) > maxLayoutEntries {
		return Layout{}, fmt.Errorf("sandbox: the policy resolves to %d paths, more than the %d a call may have", len(entries), maxLayoutEntries)
	}
	if !o.namespaces {
		entries = slices.DeleteFunc(entries, func(e entry) bool { return e.optional })
		l.Notes = append(l.Notes, AttributesUnprotected)
	}
	l.plan(entries)
	if !o.namespaces && len(l.mounts) > 0 {
		op := l.mounts[0]
		what := "read-only"
		if op.Kind == opMask {
			what = "denied"
		}
		return Layout{}, fmt.Errorf("sandbox: %s must be %s inside a writable or readable path, which needs user namespaces, "+
			"not available here; nothing was run (%d path(s) affected)", op.Path, what, len(l.mounts))
	}
	return l, nil
}

// entries lists what the policy asks for, unresolved, in order: the
// read-only filesystem and the writable roots of a mode, or a profile's
// entries with special locations and globs expanded.
func (s Spec) entries(o layoutOptions, l *Layout) ([]entry, error) {
	p := s.Policy
	if p.Profile == nil {
		out := []entry{{path: "/", access: AccessRead, from: string(p.Mode)}}
		if p.Mode != WorkspaceWrite {
			return out, nil
		}
		roots, err := s.modeRoots()
		if err != nil {
			return nil, err
		}
		for _, r := range roots {
			out = append(out, entry{path: r, access: AccessWrite, from: "writable root"})
		}
		return out, nil
	}
	prof := p.Profile
	if prof.Unrestricted {
		return []entry{{path: "/", access: AccessWrite, from: "unrestricted filesystem"}}, nil
	}
	var out []entry
	add := func(path string, e ProfileEntry, skip bool) error {
		if _, err := os.Lstat(path); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("sandbox: %s: %w", e.Path, err)
			}
			if !skip && e.Access == AccessWrite {
				l.Notes = append(l.Notes, fmt.Sprintf("the writable path %s does not exist; it was left out", path))
			}
			return nil
		}
		out = append(out, entry{path: path, access: e.Access, from: e.Path.String()})
		return nil
	}
	for _, e := range prof.Entries {
		switch {
		case e.Path.Glob != "":
			matches, err := expandGlob(e.Path.Glob, cmp(prof.GlobDepth, defaultGlobDepth))
			if err != nil {
				return nil, err
			}
			for _, m := range matches {
				if err := add(m, e, true); err != nil {
					return nil, err
				}
			}
		case e.Path.Special != "":
			paths, err := s.special(e.Path, o)
			if err != nil {
				return nil, err
			}
			for _, sp := range paths {
				if err := add(sp, e, true); err != nil {
					return nil, err
				}
			}
		default:
			if err := add(e.Path.Path, e, e.SkipMissing); err != nil {
				return nil, err
			}
		}
	}
	for _, prog := range s.Programs {
		if _, err := os.Lstat(prog); err == nil {
			out = append(out, entry{path: prog, access: AccessRead, weak: true, from: "program"})
		}
	}
	return out, nil
}

func cmp(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// special resolves a special location to paths. A location that does not
// apply here (no $TMPDIR) resolves to none.
func (s Spec) special(p ProfilePath, o layoutOptions) ([]string, error) {
	var base []string
	switch p.Special {
	case SpecialRoot:
		base = []string{"/"}
	case SpecialMinimal:
		base = slices.Clone(minimalPaths)
		if o.privateProc {
			base = append(base, "/proc")
		}
	case SpecialTmpdir:
		if s.TmpDir != "" && filepath.IsAbs(s.TmpDir) {
			base = []string{filepath.Clean(s.TmpDir)}
		}
	case SpecialSlashTmp:
		base = []string{"/tmp"}
	case SpecialProjectRoots:
		if s.Workspace == "" || !filepath.IsAbs(s.Workspace) {
			return nil, fmt.Errorf("sandbox: %s needs an absolute workspace, have %q", p, s.Workspace)
		}
		base = []string{filepath.Clean(s.Workspace)}
	default:
		return nil, fmt.Errorf("sandbox: special path %q: %w", p.Special, ErrUnknownProfile)
	}
	if p.Subpath != "" {
		for i := range base {
			base[i] = filepath.Join(base[i], p.Subpath)
		}
	}
	return base, nil
}

// modeRoots are workspace-write's writable roots, unresolved: the
// configured roots, the workspace, /tmp and $TMPDIR (unless excluded), in
// that order.
func (s Spec) modeRoots() ([]string, error) {
	var paths []string
	for i, r := range s.Policy.WritableRoots {
		if err := checkDir(r); err != nil {
			return nil, fmt.Errorf("sandbox policy: writable_roots[%d] %q: %w", i, r, err)
		}
		paths = append(paths, r)
	}
	if err := checkDir(s.Workspace); err != nil {
		return nil, fmt.Errorf("sandbox: workspace %q: %w", s.Workspace, err)
	}
	paths = append(paths, s.Workspace)
	// /tmp and $TMPDIR are conveniences: when they are not usable
	// directories they are left out rather than failing the call.
	if !s.Policy.ExcludeSlashTmp && checkDir("/tmp") == nil {
		paths = append(paths, "/tmp")
	}
	if !s.Policy.ExcludeTmpdirEnvVar && s.TmpDir != "" {
		if t := filepath.Clean(s.TmpDir); checkDir(t) == nil {
			paths = append(paths, t)
		}
	}
	return paths, nil
}

// resolveEntries resolves symlinks (Landlock and mounts act on the real
// file), refuses writable roots planted through a symlink in another
// writable root, and merges entries naming the same path: deny beats write
// beats read.
func resolveEntries(raw []entry, l *Layout) ([]entry, error) {
	reals := make([]string, len(raw))
	for i, e := range raw {
		real, err := filepath.EvalSymlinks(e.path)
		if err != nil {
			return nil, fmt.Errorf("sandbox: %s %q: %w", e.from, e.path, err)
		}
		reals[i] = real
	}
	var writable []string
	for i, e := range raw {
		if e.access == AccessWrite {
			writable = append(writable, reals[i])
		}
	}
	for i, e := range raw {
		if e.access == AccessWrite {
			if err := checkPlantedSymlink(e.path, reals[i], writable); err != nil {
				return nil, err
			}
		}
	}
	var out []entry
	index := map[string]int{}
	for i, e := range raw {
		e.path = reals[i]
		if j, ok := index[e.path]; ok {
			o := &out[j]
			if o.weak && !e.weak {
				o.from = e.from
			}
			o.access = max(o.access, e.access)
			o.weak = o.weak && e.weak
			continue
		}
		fi, err := os.Stat(e.path)
		if err != nil {
			return nil, fmt.Errorf("sandbox: %s %q: %w", e.from, e.path, err)
		}
		e.dir = fi.IsDir()
		index[e.path] = len(out)
		out = append(out, e)
	}
	return out, nil
}

// addProtected adds execgate's protected paths of every writable root but
// "/": its .git, .codex and .agents (created empty when missing, so that
// they cannot be created) and the directory a .git file points to. They
// stay read-only whatever a profile says; a deny still hides them.
func addProtected(entries []entry) []entry {
	index := map[string]int{}
	for i, e := range entries {
		index[e.path] = i
	}
	n := len(entries)
	for i := range n {
		if entries[i].access != AccessWrite || entries[i].path == "/" || !entries[i].dir {
			continue
		}
		for _, p := range protectedPaths(entries[i].path) {
			prot := entry{path: p, access: AccessRead, create: true, optional: true, forced: true, dir: true, from: "protected path"}
			if k, ok := index[p]; ok {
				e := &entries[k]
				e.create = e.create || prot.create
				e.optional, e.forced = true, true
				if e.access == AccessWrite {
					e.access = AccessRead
				}
				continue
			}
			index[p] = len(entries)
			entries = append(entries, prot)
		}
	}
	// Nor can a more specific entry make something inside them writable.
	for i := range entries {
		if entries[i].access != AccessWrite {
			continue
		}
		for _, f := range entries {
			if f.forced && f.path != entries[i].path && within(entries[i].path, f.path) {
				entries[i].access = AccessRead
				break
			}
		}
	}
	return entries
}

// plan computes the Landlock rules and mounts that give every path the
// access of its most specific entry. Landlock rights only add up along a
// path, so an entry that takes away what an enclosing one grants needs a
// mount: a read-only view inside a writable path, an empty mask for a deny,
// and, below such a mount, a fresh view of the original for a more
// specific entry that grants more again. Entries are processed shallowest
// first, the order the helper mounts in.
func (l *Layout) plan(entries []entry) {
	sorted := slices.Clone(entries)
	slices.SortStableFunc(sorted, func(a, b entry) int {
		if d := depth(a.path) - depth(b.path); d != 0 {
			return d
		}
		return strings.Compare(a.path, b.path)
	})
	// state of what earlier (shallower) entries did to a path.
	type state struct {
		grant Access // Landlock rights from this path and those above: 0, read or write
		mount string // the nearest mount at or above: "", opReadOnly, opWritable or opMask
		mask  int    // index in l.mounts of that mask, when mount is opMask
	}
	done := map[string]state{}
	inherited := func(p string) state {
		for d := filepath.Dir(p); ; d = filepath.Dir(d) {
			if st, ok := done[d]; ok {
				return st
			}
			if d == "/" || d == "." {
				return state{mask: -1}
			}
		}
	}
	var rootOrder []string
	roots := map[string]*Root{}
	for _, e := range entries {
		if e.access == AccessWrite && e.dir {
			rootOrder = append(rootOrder, e.path)
			roots[e.path] = &Root{Path: e.path}
		}
	}
	for _, e := range sorted {
		st := inherited(e.path)
		if e.path == "/" {
			st = state{mask: -1}
		}
		if e.weak {
			if st.grant < AccessRead && st.mount != opMask {
				l.Read = append(l.Read, e.path)
			}
			continue
		}
		own := st
		var op *mountOp
		switch e.access {
		case AccessDeny:
			if st.grant != 0 && st.mount != opMask {
				op = &mountOp{Path: e.path, Kind: opMask}
				l.Denied = append(l.Denied, e.path)
			}
		case AccessRead:
			if st.grant < AccessRead {
				l.Read = append(l.Read, e.path)
				own.grant = AccessRead
			}
			if st.mount == opMask || (st.grant == AccessWrite && st.mount != opReadOnly) {
				op = &mountOp{Path: e.path, Kind: opReadOnly}
			}
		case AccessWrite:
			own.grant = AccessWrite
			if !e.dir {
				l.WriteFiles = append(l.WriteFiles, e.path)
			}
			if st.mount == opMask || st.mount == opReadOnly {
				op = &mountOp{Path: e.path, Kind: opWritable}
			}
		}
		if op != nil {
			op.create, op.optional = e.create, e.optional
			if st.mount == opMask && st.mask >= 0 {
				m := &l.mounts[st.mask]
				m.Keep = append(m.Keep, e.path)
			}
			own.mount, own.mask = op.Kind, -1
			if op.Kind == opMask {
				own.mask = len(l.mounts)
			}
			l.mounts = append(l.mounts, *op)
		}
		done[e.path] = own
		if e.access == AccessRead {
			if r := nearestRoot(e.path, rootOrder); r != "" {
				roots[r].Protected = append(roots[r].Protected, e.path)
			}
		}
	}
	// Protected paths in a stable order: execgate's names as
	// protectedPaths lists them, then the others as the policy did.
	for _, p := range rootOrder {
		r := roots[p]
		want := protectedPaths(r.Path)
		slices.SortStableFunc(r.Protected, func(a, b string) int {
			return rank(a, want) - rank(b, want)
		})
		// A .git file's target may lie outside the root.
		for _, w := range want[len(protectedNames):] {
			if !slices.Contains(r.Protected, w) && r.Path != "/" {
				r.Protected = append(r.Protected, w)
			}
		}
		l.Roots = append(l.Roots, *r)
	}
}

func rank(p string, order []string) int {
	if i := slices.Index(order, p); i >= 0 {
		return i
	}
	return len(order)
}

// nearestRoot is the deepest of roots that p lies strictly below.
func nearestRoot(p string, roots []string) string {
	best := ""
	for _, r := range roots {
		if r != p && within(p, r) && len(r) > len(best) {
			best = r
		}
	}
	return best
}

func depth(p string) int {
	if p == "/" {
		return 0
	}
	return strings.Count(p, "/")
}
