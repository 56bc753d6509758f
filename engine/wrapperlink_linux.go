package engine

import (
	"fmt"
	"os"
	"path/filepath"
)

// wrapperName is the name under which execgate plays the execve wrapper:
// Codex's, so Codex's patched Bash builds and configurations keep working.
const wrapperName = "codex-execve-wrapper"

// installWrapper makes dir/codex-execve-wrapper a symlink to self, the
// execgate binary (main picks the wrapper role by that name), and returns
// its path. dir is the server's private runtime directory: nothing a
// sandboxed call can write may be able to replace the link.
func installWrapper(dir, self string) (string, error) {
	target, err := filepath.Abs(self)
	if err != nil {
		return "", fmt.Errorf("resolve execgate path %s: %w", self, err)
	}
	path := filepath.Join(dir, wrapperName)
	if cur, err := os.Readlink(path); err == nil && cur == target {
		return path, nil
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return "", fmt.Errorf("replace wrapper link %s: %w", path, err)
	}
	if err := os.Symlink(target, path); err != nil {
		return "", fmt.Errorf("link wrapper %s -> %s: %w", path, target, err)
	}
	return path, nil
}
