// Package nsexecbin finds the namespace launcher, execgate-nsexec (built
// from sandbox/nsexec/nsexec.c), for the server.
//
// It is a C program, so `go build` cannot make it: scripts/build-bash.sh
// builds it with the patched Bash, the project's other C artifact, and
// installs it next to that Bash (scripts/install.sh copies both). The
// server looks there first, then next to the execgate binary (where tests
// and hand installs put it). Without either, sandbox.Launcher makes the
// helper's namespaces with os/exec, more slowly, and says so.
package nsexecbin

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Name is the launcher's file name.
const Name = "execgate-nsexec"

// Path returns the launcher to use: Name in the directory of bash (the
// patched Bash the server runs), else Name next to self (the execgate
// binary), each with symlinks resolved, else "". A file of that name that
// is not an executable regular file is an error, not a reason to look
// further: it is not what the installer put there.
func Path(bash, self string) (string, error) {
	for _, p := range []string{bash, self} {
		if p == "" {
			continue
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		candidate := filepath.Join(filepath.Dir(p), Name)
		fi, err := os.Stat(candidate)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return "", fmt.Errorf("namespace launcher %s: %w", candidate, err)
		case !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0:
			return "", fmt.Errorf("namespace launcher %s: not an executable file", candidate)
		}
		return candidate, nil
	}
	return "", nil
}
