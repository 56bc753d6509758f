package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// The server's half of the mounts (stage 2 of docs/c-helper.md): when a
// call starts, everything about its mounts that can be decided outside the
// helper's namespace is decided here, so that the helper only creates what
// it is told to, checks identities and mounts. The helper (mounts_linux.go,
// readonly_linux.go) looks at no path to decide anything.

// resolveMounts completes h.Mounts for the helper: each original's
// identity and kind, where a missing protected name is to be created,
// which targets lie in an earlier mask, and whether each entry a mask
// keeps a way to is a file. An op with nothing to mount over (missing,
// and not a protected name to create, or another user's symlink in a
// sticky directory) is left out. A protected path that is a symlink fails
// the call: a mount would land on its target and leave the link itself
// replaceable.
func resolveMounts(h *helperSpec) error {
	ops := make([]mountOp, 0, len(h.Mounts))
	for _, op := range h.Mounts {
		r, ok, err := resolveOp(op, h.Roots)
		if err != nil {
			return fmt.Errorf("sandbox: %s %s: %w", opVerb(op), op.Path, err)
		}
		if ok {
			ops = append(ops, r)
		}
	}
	for i := range ops {
		// The deepest earlier mask holding it: the one its target is in.
		for j := i - 1; j >= 0; j-- {
			if ops[j].Kind == opMask && within(ops[i].Path, ops[j].Path) {
				ops[i].InMask = j + 1
				break
			}
		}
	}
	h.Mounts = ops
	return nil
}

// resolveOp decides op from one lstat of its path (of each missing
// parent, for a placeholder): the identity it gives is the one the pin
// would, as the helper opens the path refusing symlinks in every
// component, and fails if there is one.
func resolveOp(op mountOp, roots []Root) (mountOp, bool, error) {
	var st unix.Stat_t
	err := unix.Lstat(op.Path, &st)
	switch {
	case errors.Is(err, unix.ENOENT):
		if !op.create {
			return op, false, nil
		}
		return planPlaceholder(op, roots)
	case err != nil:
		return op, false, &os.PathError{Op: "lstat", Path: op.Path, Err: err}
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		if othersStickyEntry(op.Path, &st) {
			return op, false, nil
		}
		return op, false, errors.New("is a symlink; cannot be kept read-only")
	}
	op.ID, op.Dir = fileID{Dev: st.Dev, Ino: st.Ino}, st.Mode&unix.S_IFMT == unix.S_IFDIR
	op.KeepFile = keepKinds(op.Keep)
	return op, true, nil
}

// planPlaceholder is op for a missing protected name: the helper creates
// it as an empty directory, with its missing parents, when the first
// missing one lies in a writable root; otherwise nothing can create it
// and nothing is mounted. The helper makes it, not the server: as root of
// its user namespace it can create it in a directory its user owns but
// made read-only, which the sandboxed command could make writable again.
func planPlaceholder(op mountOp, roots []Root) (mountOp, bool, error) {
	first := op.Path
	var parent unix.Stat_t
	for {
		p := filepath.Dir(first)
		err := unix.Lstat(p, &parent)
		if err == nil || p == first {
			if err != nil {
				return op, false, &os.PathError{Op: "lstat", Path: p, Err: err}
			}
			break
		}
		first = p
	}
	if !insideRoots(first, roots) {
		return op, false, nil
	}
	dir := filepath.Dir(first)
	if parent.Mode&unix.S_IFMT != unix.S_IFDIR {
		return op, false, fmt.Errorf("%s is not a directory", dir)
	}
	rel, err := filepath.Rel(dir, op.Path)
	if err != nil {
		return op, false, err
	}
	op.MakeIn = pathID{Path: dir, ID: fileID{Dev: parent.Dev, Ino: parent.Ino}}
	op.Make = strings.Split(rel, "/")
	op.Dir = true
	op.KeepFile = keepKinds(op.Keep)
	return op, true, nil
}

// keepKinds says which of a mask's keep entries are files (followed, as
// what will be mounted there is the target); a missing one gets a
// directory.
func keepKinds(keep []string) []bool {
	if len(keep) == 0 {
		return nil
	}
	out := make([]bool, len(keep))
	for i, k := range keep {
		var st unix.Stat_t
		out[i] = unix.Stat(k, &st) == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR
	}
	return out
}

// writableMounts is what the helper keeps writable when it makes the rest
// read-only (see readOnlyOutside): the shallowest writable roots, and the
// writable files outside every root, with the identities of the pins the
// ruleset is built on (files, the fds of pinGrants: -1 for one gone). It
// returns all true when "/" is writable: nothing is to be made read-only
// then.
func writableMounts(roots []pinnedRoot, files []string, fileFDs []int) (keep []pathID, all bool, err error) {
	byDepth := slices.Clone(roots)
	slices.SortStableFunc(byDepth, func(a, b pinnedRoot) int { return depth(a.Path) - depth(b.Path) })
	var paths []string
	add := func(p string, fd int) error {
		id, err := identity(fd)
		if err != nil {
			return fmt.Errorf("writable %s: %w", p, err)
		}
		keep, paths = append(keep, pathID{Path: p, ID: id}), append(paths, p)
		return nil
	}
	for _, r := range byDepth {
		if r.Path == "/" {
			return nil, true, nil
		}
		if !coveredBy(r.Path, paths) {
			if err := add(r.Path, r.fd); err != nil {
				return nil, false, err
			}
		}
	}
	for i, f := range files {
		if fileFDs[i] < 0 || coveredBy(f, paths) || slices.ContainsFunc(roots, func(r pinnedRoot) bool { return within(f, r.Path) }) {
			continue // gone: Landlock grants nothing there either
		}
		if err := add(f, fileFDs[i]); err != nil {
			return nil, false, err
		}
	}
	return keep, false, nil
}

// othersStickyEntry reports whether p (a symlink, st) sits in a sticky
// directory and belongs to someone else, so that we cannot unlink it.
func othersStickyEntry(p string, st *unix.Stat_t) bool {
	var dir unix.Stat_t
	if unix.Stat(filepath.Dir(p), &dir) != nil || dir.Mode&unix.S_ISVTX == 0 {
		return false
	}
	uid := uint32(os.Geteuid())
	return uid != 0 && st.Uid != uid && dir.Uid != uid
}

func insideRoots(p string, roots []Root) bool {
	for _, r := range roots {
		if within(p, r.Path) {
			return true
		}
	}
	return false
}

// opVerb names what op does, for messages.
func opVerb(op mountOp) string {
	switch op.Kind {
	case opMask:
		return "deny"
	case opWritable:
		return "make writable"
	}
	return "protect"
}
