package server

import (
	"os"
	"path/filepath"
	"strings"
)

// maxSymlinks bounds path resolution, as the kernel's ELOOP limit does.
const maxSymlinks = 40

// symlinkInRoots resolves path one component at a time and reports the
// first symbolic link met that lies inside one of roots (resolved,
// absolute directories), with that root. A sandboxed command can re-point
// such a link, so the file the path names is not fixed. Too many links
// reports ok with an empty root. A missing component ends the walk: there
// is nothing to re-point and the exec will fail on its own.
func symlinkInRoots(path string, roots []string) (link, root string, ok bool) {
	todo := strings.Split(path, "/")
	resolved := "/"
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
		fi, err := os.Lstat(next)
		if err != nil {
			return "", "", false
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			resolved = next
			continue
		}
		for _, r := range roots {
			if underDir(next, r) {
				return next, r, true
			}
		}
		if links++; links > maxSymlinks {
			return next, "", true
		}
		target, err := os.Readlink(next)
		if err != nil {
			return "", "", false
		}
		if filepath.IsAbs(target) {
			resolved = "/"
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return "", "", false
}

// underDir reports whether p is dir or lies below it (both clean, absolute).
func underDir(p, dir string) bool {
	if dir == "/" {
		return true
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}
