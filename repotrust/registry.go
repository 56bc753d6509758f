package repotrust

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/execgate/execgate/sandbox"
)

// Registry remembers what the sandboxes of every call since the server
// started could write, and checks execs against it. Its methods are safe
// for concurrent use; Check never blocks on Observe.
type Registry struct {
	programs Programs
	// env is the server's environment: the GIT_* values of an escalated
	// program's environment that equal these are the user's.
	env map[string]string
	// euid is the user escalated programs run as.
	euid uint32

	mu      sync.Mutex // serializes Observe
	history atomic.Pointer[history]
	files   fileCache
}

// NewRegistry returns a registry that checks the programs of table for a
// server whose environment is env (os.Environ's form).
func NewRegistry(table Programs, env []string) *Registry {
	r := &Registry{programs: table, env: envMap(env), euid: uint32(os.Geteuid())}
	r.history.Store(&history{})
	return r
}

// history is what every call recorded so far could write. Published
// values are never modified.
type history struct {
	records []*record
	// unconfined: a danger-full-access call ran (it could write anywhere).
	unconfined bool
	// unenforced: a sandboxed call ran without namespaces (protected
	// paths were writable).
	unenforced bool
}

// record is one distinct protection: calls with the same roots and the same
// protected files share one.
type record struct {
	key   string
	roots []string
	// protected are the protected paths that existed when the call
	// started, by identity: the helper made each a read-only mount point.
	// A protected path the helper had to create is not here: what appears
	// there later was created during the server's life.
	protected map[fileID]bool
}

// maxRecords bounds the distinct protections kept; beyond it they are merged
// into one that is stricter than each (see merge).
const maxRecords = 32

// Observe records a call's protection. It must run before the call's
// sandbox runs anything (sandbox.Launcher.Observe calls it so).
func (r *Registry) Observe(p sandbox.Protection) {
	var rec *record
	if !p.Unconfined() && p.Enforced && len(p.Roots) > 0 {
		rec = newRecord(p.Roots)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.history.Load()
	h := *old
	switch {
	case p.Unconfined() && !old.unconfined:
		h.unconfined = true
	case !p.Unconfined() && !p.Enforced && !old.unenforced:
		h.unenforced = true
	case rec != nil && !slices.ContainsFunc(old.records, func(o *record) bool { return o.key == rec.key }):
		h.records = append(slices.Clip(old.records), rec)
		if len(h.records) > maxRecords {
			h.records = []*record{merge(h.records)}
		}
	default:
		return // nothing new
	}
	r.history.Store(&h)
}

func newRecord(roots []sandbox.Root) *record {
	rec := &record{protected: map[fileID]bool{}}
	for _, root := range roots {
		rec.roots = append(rec.roots, root.Path)
		for _, p := range root.Protected {
			if st, err := lstatStamp(p); err == nil && !st.isSymlink() {
				rec.protected[st.id] = true
			}
		}
	}
	slices.Sort(rec.roots)
	rec.roots = slices.Compact(rec.roots)
	rec.key = recordKey(rec)
	return rec
}

func recordKey(rec *record) string {
	ids := slices.SortedFunc(maps.Keys(rec.protected), func(a, b fileID) int {
		if a.dev != b.dev {
			return cmpUint(a.dev, b.dev)
		}
		return cmpUint(a.ino, b.ino)
	})
	var b strings.Builder
	for _, r := range rec.roots {
		b.WriteString(r)
		b.WriteByte(0)
	}
	for _, id := range ids {
		fmt.Fprintf(&b, "%d:%d,", id.dev, id.ino)
	}
	return b.String()
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// merge is one record at least as strict as each of recs: every root of
// any, and protected only what all protected. Whatever one of recs lets a
// sandbox write, the merged record does too.
func merge(recs []*record) *record {
	m := &record{protected: maps.Clone(recs[0].protected)}
	for _, r := range recs {
		m.roots = append(m.roots, r.roots...)
		for id := range m.protected {
			if !r.protected[id] {
				delete(m.protected, id)
			}
		}
	}
	slices.Sort(m.roots)
	m.roots = slices.Compact(m.roots)
	m.key = recordKey(m)
	return m
}

// rootOf returns the writable root of rec that contains p.
func (rec *record) rootOf(p string) (string, bool) {
	for _, r := range rec.roots {
		if within(p, r) {
			return r, true
		}
	}
	return "", false
}

// writable returns a writable root through which some call's sandbox could
// write p (change the file, or add, remove or rename entries of the
// directory), or ok false when none could: p is outside every root, or at
// or below a path that call's sandbox mounted read-only. A p that does not
// exist is writable where it could be created.
func (v *view) writable(p string) (root string, ok bool) {
	if r, seen := v.writables[p]; seen {
		return r, r != ""
	}
	for _, rec := range v.h.records {
		r, in := rec.rootOf(p)
		if in && !v.protectedIn(rec, p) {
			root = r
			break
		}
	}
	if v.writables == nil {
		v.writables = make(map[string]string, 16)
	}
	v.writables[p] = root
	return root, root != ""
}

// protectedIn reports whether p or a directory above it is one rec's
// sandbox mounted read-only.
func (v *view) protectedIn(rec *record, p string) bool {
	for a := p; ; a = parent(a) {
		if _, in := rec.rootOf(a); !in {
			return false
		}
		if id, ok := v.id(a); ok && rec.protected[id] {
			return true
		}
		if a == "/" {
			return false
		}
	}
}

// pinned reports whether no sandbox can rename or remove p: every call
// whose roots contain p had it as a read-only mount point.
func (v *view) pinned(p string) bool {
	for _, rec := range v.h.records {
		if _, in := rec.rootOf(p); !in {
			continue
		}
		if id, ok := v.id(p); !ok || !rec.protected[id] {
			return false
		}
	}
	return true
}

// rootBelow returns a writable root strictly inside dir, if any.
func (v *view) rootBelow(dir string) (string, bool) {
	for _, rec := range v.h.records {
		for _, r := range rec.roots {
			if r != dir && within(r, dir) {
				return r, true
			}
		}
	}
	return "", false
}

// readOnly says why a sandbox could have written what the path p leads to,
// or could make p lead elsewhere, or "" when it could do neither. p is the
// path as a program will follow it (symlinks unresolved). what names p in
// the message ("the git directory", "the git config file"). For a
// directory whose whole tree matters (tree), a writable root inside it
// counts too.
func (v *view) readOnly(what, p string, tree bool) string {
	real, name, root, err := v.resolve(p, true)
	if err != nil {
		return fmt.Sprintf("%s %s: %v", what, p, err)
	}
	if root, ok := v.writable(real); ok {
		return fmt.Sprintf("%s %s lies in the writable root %s and is not a file the sandbox has kept read-only since execgate started: "+
			"a sandboxed command could have created, replaced or changed it", what, real, root)
	}
	if name != "" {
		return fmt.Sprintf("the sandbox can rename or replace %s (in writable root %s), so %s %s could lead elsewhere while the program starts", name, root, what, p)
	}
	if tree {
		if root, ok := v.rootBelow(real); ok {
			return fmt.Sprintf("%s %s contains the writable root %s", what, real, root)
		}
	}
	return ""
}
