// Package companion finds the programs that ship beside execgate: the
// sandbox launcher execgate-nsexec (C, from sandbox/nsexec), every call's
// sandbox helper and supervisor, without which no call runs; and the
// escalate reaper execgate-sandbox (Go, from cmd/execgate-sandbox), without
// which execgate plays the reaper itself, more slowly, and doctor says so.
//
// The launcher is C, so `go build` cannot make it: scripts/build-bash.sh
// builds it with the patched Bash, the project's other C artifact, next to
// that Bash. The reaper is built by `make build` next to execgate.
// scripts/install.sh copies all of them to PREFIX/libexec/execgate, beside
// the Bash.
package companion

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The companions' file names.
const (
	NSExec  = "execgate-nsexec"
	Sandbox = "execgate-sandbox"
)

// Path returns the companion called name in the directory of the first of
// dirsOf (binaries: the patched Bash, the execgate binary) that has one,
// each binary's symlinks resolved first; "" if none has. A file of that name
// that is not an executable regular file is an error, not a reason to look
// further: it is not what the installer put there.
func Path(name string, dirsOf ...string) (string, error) {
	for _, p := range dirsOf {
		if p == "" {
			continue
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		candidate := filepath.Join(filepath.Dir(p), name)
		fi, err := os.Stat(candidate)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return "", fmt.Errorf("%s: %w", candidate, err)
		case !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0:
			return "", fmt.Errorf("%s: not an executable file", candidate)
		}
		return candidate, nil
	}
	return "", nil
}
