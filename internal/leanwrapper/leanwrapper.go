// Package leanwrapper puts the executables that start often, the execve
// wrapper (EXEC_WRAPPER) and the sandbox helper, where the server runs them.
//
// The preferred executable is the lean binary built from internal/lean and
// embedded at build time (build tag leanwrapper, set by the Makefile): it
// starts about a millisecond faster than the full execgate binary because it
// does not initialise the MCP SDK's dependency graph. It plays the wrapper
// under the name codex-execve-wrapper and the helper under execgate-sandbox.
// Without it (plain `go build`, `go run . server`) the wrapper is a symlink
// named codex-execve-wrapper to execgate itself, which plays the same role
// through main's argv[0] dispatch, and the helper is execgate itself.
package leanwrapper

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// Name is the file name the wrapper gets: Codex's, so its patched Bash builds
// and configurations keep working with execgate.
const Name = "codex-execve-wrapper"

// HelperName is the name under which the lean binary plays the sandbox
// helper (`execgate-sandbox sandbox SPEC -- ARGV...`).
const HelperName = "execgate-sandbox"

// Helper returns the sandbox helper to run for a wrapper Install returned:
// the lean binary under HelperName next to it when one is embedded (Install
// created that link), else self, the full execgate binary.
func Helper(wrapperPath, self string) string {
	if !Embedded() {
		return self
	}
	return filepath.Join(filepath.Dir(wrapperPath), HelperName)
}

// Embedded reports whether this binary carries the lean wrapper.
func Embedded() bool { return len(embedded) > 0 }

// Install creates the wrapper inside dir (which must be private to the
// caller: the server's runtime directory) and returns its absolute path.
// self is the path of the running execgate binary, used when no lean wrapper
// is embedded.
func Install(dir, self string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create wrapper directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, Name)
	if !Embedded() {
		target, err := filepath.Abs(self)
		if err != nil {
			return "", fmt.Errorf("resolve execgate path %s: %w", self, err)
		}
		if cur, err := os.Readlink(path); err == nil && cur == target {
			return path, nil
		}
		os.Remove(path)
		if err := os.Symlink(target, path); err != nil {
			return "", fmt.Errorf("link wrapper %s -> %s: %w", path, target, err)
		}
		return path, nil
	}
	defer releaseEmbedded()
	if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, embedded) {
		return path, linkHelper(dir)
	}
	// Write under a temporary name, then rename, so a wrapper being exec'd
	// by a concurrent server never sees a half-written file. (A random name,
	// not a content hash: crypto/sha256 would add its package inits to every
	// start of the lean binary, which links this package for HelperName.)
	if err := writeExecutable(dir, path); err != nil {
		return "", err
	}
	return path, linkHelper(dir)
}

// writeExecutable writes the embedded binary to path (in dir) atomically,
// mode 0755.
func writeExecutable(dir, path string) error {
	f, err := os.CreateTemp(dir, "."+Name+"-*")
	if err != nil {
		return fmt.Errorf("write wrapper in %s: %w", dir, err)
	}
	tmp := f.Name()
	_, err = f.Write(embedded)
	if err == nil {
		err = f.Chmod(0o755)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write wrapper %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("install wrapper %s: %w", path, err)
	}
	return nil
}

// linkHelper makes the HelperName link to the lean binary in dir.
func linkHelper(dir string) error {
	link := filepath.Join(dir, HelperName)
	if cur, err := os.Readlink(link); err == nil && cur == Name {
		return nil
	}
	os.Remove(link)
	if err := os.Symlink(Name, link); err != nil {
		return fmt.Errorf("link sandbox helper %s: %w", link, err)
	}
	return nil
}
