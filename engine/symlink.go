package engine

import (
	"os"
	"path/filepath"
	"strings"
)

// maxSymlinks bounds path resolution, as the kernel's ELOOP limit does.
const maxSymlinks = 40

// walk is what walkPath found.
type walk struct {
	// real is the path with every symbolic link followed; components that
	// do not exist are kept as written, so that real is what the path
	// would name once they are created.
	real string
	// link is the first symbolic link met inside one of the roots (the
	// walk stops there), with that root; or, with root empty, the link at
	// which the walk gave up after maxSymlinks.
	link, root string
}

// walkPath resolves path (absolute) one component at a time, as the
// kernel would, stopping at the first symbolic link that lies inside one
// of roots.
func walkPath(path string, roots []string) walk {
	todo := strings.Split(path, "/")
	resolved := "/"
	missing := false
	for links := 0; len(todo) > 0; {
		comp := todo[0]
		todo = todo[1:]
		switch comp {
		case "", ".":
			continue
		case "..":
			resolved = filepath.Dir(resolved)
			continue
		}
		next := filepath.Join(resolved, comp)
		if missing {
			resolved = next
			continue
		}
		fi, err := os.Lstat(next)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			missing = err != nil
			resolved = next
			continue
		}
		for _, r := range roots {
			if underDir(next, r) {
				return walk{real: next, link: next, root: r}
			}
		}
		if links++; links > maxSymlinks {
			return walk{real: next, link: next}
		}
		target, err := os.Readlink(next)
		if err != nil {
			missing, resolved = true, next
			continue
		}
		if filepath.IsAbs(target) {
			resolved = "/"
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return walk{real: resolved}
}

// underDir reports whether p is dir or lies below it (both clean, absolute).
func underDir(p, dir string) bool {
	if dir == "/" {
		return true
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}
