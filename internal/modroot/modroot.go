// Package modroot finds the module's root directory for test helpers that
// need the source tree (the Bash patch, fixtures, `go build`).
//
// `go test` starts each test binary in its package's directory, inside the
// module; a test may later change directory (t.Chdir). The directory is
// therefore taken once, when the binary starts, and not whenever a helper
// asks.
package modroot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// startDir is the working directory the process started in.
var startDir, startDirErr = os.Getwd()

// Dir returns the root of the module the process started in: the nearest
// directory at or above its starting working directory holding go.mod.
func Dir() (string, error) {
	if startDirErr != nil {
		return "", fmt.Errorf("modroot: working directory at start: %w", startDirErr)
	}
	return Find(startDir)
}

// Find walks up from dir to the first directory holding go.mod.
func Find(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("modroot: absolute path of %q: %w", dir, err)
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("modroot: looking for go.mod in %s: %w", d, err)
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("modroot: no go.mod in %s or any parent directory", dir)
		}
		d = parent
	}
}
