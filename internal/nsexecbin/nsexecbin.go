// Package nsexecbin finds the namespace launcher, execgate-nsexec (built
// from sandbox/nsexec/nsexec.c), for the server: the copy embedded in
// execgate by `make build`, written into the server's private runtime
// directory, else one installed next to the execgate binary (tests, a
// build without the embedded copy). Without either, sandbox.Launcher makes
// the helper's namespaces itself, more slowly.
package nsexecbin

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Name is the launcher's file name.
const Name = "execgate-nsexec"

// Path returns the launcher to use: the embedded one installed into dir
// (the server's private runtime directory), else Name next to self (the
// execgate binary, symlinks resolved), else "".
func Path(dir, self string) (string, error) {
	if len(embedded) > 0 {
		return install(dir)
	}
	if real, err := filepath.EvalSymlinks(self); err == nil {
		self = real
	}
	p := filepath.Join(filepath.Dir(self), Name)
	fi, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("namespace launcher %s: %w", p, err)
	case !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0:
		return "", fmt.Errorf("namespace launcher %s: not an executable file", p)
	}
	return p, nil
}

// install writes the embedded launcher into dir, atomically (a server
// sharing dir may be starting it), unless it is there already.
func install(dir string) (string, error) {
	path := filepath.Join(dir, Name)
	if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, embedded) {
		return path, nil
	}
	f, err := os.CreateTemp(dir, "."+Name+"-*")
	if err != nil {
		return "", fmt.Errorf("install the namespace launcher in %s: %w", dir, err)
	}
	tmp := f.Name()
	_, err = f.Write(embedded)
	if err == nil {
		err = f.Chmod(0o755)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("install the namespace launcher %s: %w", path, err)
	}
	return path, nil
}
