// Package leanwrapper puts an execve wrapper executable where the server can
// point EXEC_WRAPPER at it.
//
// The preferred wrapper is the lean binary built from
// wrapper/cmd/execgate-execve-wrapper and embedded at build time (build tag
// leanwrapper, set by the Makefile): it starts about a millisecond faster than
// the full execgate binary because it does not initialise the MCP SDK's
// dependency graph. Without it (plain `go build`, `go run . server`) the
// wrapper is a symlink named codex-execve-wrapper to execgate itself, which
// plays the same role through main's argv[0] dispatch.
package leanwrapper

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// Name is the file name the wrapper gets: Codex's, so its patched Bash builds
// and configurations keep working with execgate.
const Name = "codex-execve-wrapper"

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
	if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, embedded) {
		return path, nil
	}
	// Write under a content-derived temporary name, then rename, so a wrapper
	// being exec'd by a concurrent server never sees a half-written file.
	sum := sha256.Sum256(embedded)
	tmp := filepath.Join(dir, "."+Name+"-"+hex.EncodeToString(sum[:6]))
	if err := os.WriteFile(tmp, embedded, 0o755); err != nil {
		return "", fmt.Errorf("write wrapper %s: %w", tmp, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", fmt.Errorf("chmod wrapper %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("install wrapper %s: %w", path, err)
	}
	return path, nil
}
