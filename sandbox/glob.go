package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Glob entries of a permission profile (typically "deny every *.key below
// this directory") are expanded once, when a call starts: the paths that
// match then get the entry's access. A file created later during the call
// is not covered: the sandbox confines paths, and a glob is a search. The
// search goes at most the profile's glob_scan_max_depth levels below the
// pattern's fixed prefix (defaultGlobDepth when it gives none), does not
// follow symlinks into directories, and gives up with an error, failing
// the call, beyond maxGlobVisits directory entries rather than confine
// part of what was asked.

// defaultGlobDepth is the search depth when a profile sets none.
const defaultGlobDepth = 16

// maxGlobVisits bounds the directory entries one expansion looks at.
const maxGlobVisits = 200_000

// expandGlob returns the existing paths that match pattern (absolute; "*",
// "?" and "[...]" match within one path component, "**" any number of
// components), searching at most depth levels below its fixed prefix.
func expandGlob(pattern string, depth int) ([]string, error) {
	parts := strings.Split(strings.TrimPrefix(filepath.Clean(pattern), "/"), "/")
	fixed := 0
	for fixed < len(parts) && !hasMeta(parts[fixed]) {
		fixed++
	}
	base := "/" + filepath.Join(parts[:fixed]...)
	if fixed == len(parts) {
		if _, err := os.Lstat(base); err != nil {
			return nil, nil
		}
		return []string{base}, nil
	}
	for _, p := range parts[fixed:] {
		if p != "**" {
			if _, err := filepath.Match(p, ""); err != nil {
				return nil, fmt.Errorf("sandbox: glob %q: bad component %q: %w", pattern, p, err)
			}
		}
	}
	g := globber{pattern: pattern, depth: depth, seen: map[string]bool{}}
	if err := g.match(base, parts[fixed:], 0); err != nil {
		return nil, err
	}
	return g.out, nil
}

type globber struct {
	pattern string
	depth   int
	visits  int
	seen    map[string]bool
	out     []string
}

func (g *globber) add(p string) {
	if !g.seen[p] {
		g.seen[p] = true
		g.out = append(g.out, p)
	}
}

// match finds the paths below dir (at level levels below the fixed prefix)
// that match rest.
func (g *globber) match(dir string, rest []string, level int) error {
	if len(rest) == 0 {
		g.add(dir)
		return nil
	}
	if rest[0] == "**" {
		// "**" matching nothing...
		if err := g.match(dir, rest[1:], level); err != nil {
			return err
		}
	}
	if level >= g.depth {
		return nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		// What this process cannot list, the sandboxed command (same
		// user, fewer rights) cannot reach through this directory either.
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		return fmt.Errorf("sandbox: glob %q: %w", g.pattern, err)
	}
	for _, ent := range ents {
		if g.visits++; g.visits > maxGlobVisits {
			return fmt.Errorf("sandbox: glob %q looks at more than %d entries (within glob_scan_max_depth %d); "+
				"narrow the pattern or lower the depth", g.pattern, maxGlobVisits, g.depth)
		}
		child := filepath.Join(dir, ent.Name())
		isDir := ent.IsDir() // false for a symlink: never followed
		if rest[0] == "**" {
			// ...or one more directory, staying on "**".
			if isDir {
				if err := g.match(child, rest, level+1); err != nil {
					return err
				}
			}
			continue
		}
		if ok, _ := filepath.Match(rest[0], ent.Name()); !ok {
			continue
		}
		if len(rest) == 1 {
			g.add(child)
		} else if isDir {
			if err := g.match(child, rest[1:], level+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }
