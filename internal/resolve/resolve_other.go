//go:build !linux

package resolve

import (
	"io/fs"
	"os"
	"path/filepath"
)

// Open resolves path with the standard library: outside Linux nothing runs
// outside a sandbox, so only the name matters (for rules and `execgate
// check`). roots are not examined and no descriptor is held.
func Open(path string, roots []string) (*File, error) {
	if !filepath.IsAbs(path) {
		return nil, &Error{Path: path, Why: "not an absolute path"}
	}
	real, err := filepath.EvalSymlinks(filepath.Clean(path))
	if err != nil {
		return nil, &Error{Path: path, Why: err.Error(), Err: err}
	}
	fi, err := os.Stat(real)
	if err != nil {
		return nil, &Error{Path: path, Why: err.Error(), Err: err}
	}
	f := &File{Path: real, fd: -1, Type: fs.ModeIrregular}
	switch {
	case fi.IsDir():
		f.Type = fs.ModeDir
	case fi.Mode().IsRegular():
		f.Type = 0
	}
	return f, nil
}

// Close does nothing: no descriptor is held.
func (f *File) Close() error { return nil }
