package repotrust

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// view is one check's look at the filesystem and the history: it remembers
// every lstat it made, so that the many questions a check asks about the
// same directories cost one system call each.
type view struct {
	*Registry
	h     *history
	stats map[string]statResult // lstat, by path
	// follow is stat (symlinks followed by the kernel), by path.
	follow map[string]statResult
	// writables remembers writable: the root, "" for none.
	writables map[string]string
}

type statResult struct {
	st  stamp
	err error
}

func (r *Registry) view() *view {
	return &view{Registry: r, h: r.history.Load()}
}

// lstat is lstat(2) of p (clean, absolute), once per view.
func (v *view) lstat(p string) (stamp, error) {
	if r, ok := v.stats[p]; ok {
		return r.st, r.err
	}
	st, err := lstatStamp(p)
	if v.stats == nil {
		v.stats = make(map[string]statResult, 16)
	}
	v.stats[p] = statResult{st, err}
	return st, err
}

func (v *view) id(p string) (fileID, bool) {
	st, err := v.lstat(p)
	return st.id, err == nil
}

// realpath is filepath.EvalSymlinks for an absolute path, through the
// view's lstat cache: p must exist.
func (v *view) realpath(p string) (string, error) {
	real, _, _, err := v.resolve(p, false)
	if err == nil {
		_, err = v.lstat(real)
	}
	return real, err
}

// resolve follows the absolute path p as the kernel does (symlinks, and
// ".." after them, physically) to the path it leads to now; a part that
// does not exist is kept as written. With stable, it also reports the
// first name on the way (symlinks included) that a sandbox could rename or
// replace: one in a writable directory that is not a read-only mount point.
// p could then lead elsewhere by the time another process follows it.
func (v *view) resolve(p string, stable bool) (real, name, root string, err error) {
	pending := strings.Split(p, "/")
	done := "/"
	for hops := 0; len(pending) > 0; {
		elem := pending[0]
		pending = pending[1:]
		switch elem {
		case "", ".":
			continue
		case "..":
			done = parent(done)
			continue
		}
		next := filepath.Join(done, elem)
		st, err := v.lstat(next)
		if errors.Is(err, fs.ErrNotExist) {
			// The rest does not exist: whoever can create it is asked
			// of the path itself (writable).
			return filepath.Join(append([]string{next}, pending...)...), name, root, nil
		}
		if err != nil {
			return "", "", "", &fs.PathError{Op: "lstat", Path: next, Err: err}
		}
		if stable && name == "" {
			if r, w := v.writable(done); w && !v.pinned(next) {
				name, root = next, r
			}
		}
		if !st.isSymlink() {
			done = next
			continue
		}
		if hops++; hops > 40 {
			return "", "", "", &fs.PathError{Op: "resolve", Path: p, Err: errLoop}
		}
		target, err := readlink(next)
		if err != nil {
			return "", "", "", err
		}
		if filepath.IsAbs(target) {
			done = "/"
		}
		pending = append(strings.Split(target, "/"), pending...)
	}
	return done, name, root, nil
}

// readlink is readlink(2).
func readlink(p string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlink(p, buf)
		if err != nil {
			return "", &fs.PathError{Op: "readlink", Path: p, Err: err}
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

// stat is stat(2) of p: the stamp of the file p leads to.
func (v *view) stat(p string) (stamp, error) {
	if st, err := v.lstat(p); err != nil || !st.isSymlink() {
		return st, err
	}
	if r, ok := v.follow[p]; ok {
		return r.st, r.err
	}
	st, err := statStamp(p)
	if v.follow == nil {
		v.follow = map[string]statResult{}
	}
	v.follow[p] = statResult{st, err}
	return st, err
}

// symlinksIn lists the names of the symlinks in dir, remembered per state
// of the directory (adding, removing or renaming an entry changes it).
func (v *view) symlinksIn(dir string) ([]string, error) {
	st, err := v.lstat(dir)
	if err != nil {
		return nil, err
	}
	if links, ok := v.files.get("symlinks", dir, st); ok {
		return links.([]string), nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var links []string
	for _, e := range entries {
		if e.Type()&fs.ModeSymlink != 0 {
			links = append(links, e.Name())
		}
	}
	v.files.put("symlinks", dir, st, links)
	return links, nil
}

// config is readConfig of path, remembered per state of the file.
func (v *view) config(path string) ([]configEntry, error) {
	st, err := v.stat(path)
	if err != nil {
		return nil, err
	}
	if entries, ok := v.files.get("config", path, st); ok {
		return entries.([]configEntry), nil
	}
	entries, err := readConfig(path)
	if err == nil {
		v.files.put("config", path, st, entries)
	}
	return entries, err
}
