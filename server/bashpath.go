package server

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Environment variables naming the patched Bash, in order of precedence
// (after the --bash flag). CODEX_BASH_PATH keeps Codex setups working.
const (
	EnvBash      = "EXECGATE_BASH"
	EnvCodexBash = "CODEX_BASH_PATH"
)

// BashBuildHint says how to get a Bash that honours the execve wrapper.
const BashBuildHint = "build the patched Bash with scripts/build-bash.sh (or `make bash`) and pass it with --bash or $" + EnvBash

// bashCandidate is one place the patched Bash may be, and who said so.
type bashCandidate struct {
	path, source string
}

// findBash returns the patched Bash to use: the --bash flag (or config),
// $EXECGATE_BASH, $CODEX_BASH_PATH, then <prefix>/libexec/execgate/bash next
// to an installed binary (exe in <prefix>/bin), then build/bash/bin/bash of
// the source checkout exe was built in. An explicitly named Bash must exist;
// the searched places are skipped when missing.
func findBash(flag string, getenv func(string) string, exe string) (bashCandidate, error) {
	for _, c := range []bashCandidate{
		{flag, "flag --bash"},
		{getenv(EnvBash), "$" + EnvBash},
		{getenv(EnvCodexBash), "$" + EnvCodexBash},
	} {
		if c.path == "" {
			continue
		}
		abs, err := executableFile(c.path)
		if err != nil {
			return bashCandidate{}, fmt.Errorf("patched Bash from %s: %w", c.source, err)
		}
		return bashCandidate{abs, c.source}, nil
	}
	var searched []string
	if exe != "" {
		dir := filepath.Dir(exe)
		installed := filepath.Join(dir, "..", "libexec", "execgate", "bash")
		searched = append(searched, filepath.Clean(installed))
		if abs, err := executableFile(installed); err == nil {
			return bashCandidate{abs, "install prefix"}, nil
		}
		if root, ok := checkoutRoot(dir); ok {
			built := filepath.Join(root, "build", "bash", "bin", "bash")
			searched = append(searched, built)
			if abs, err := executableFile(built); err == nil {
				return bashCandidate{abs, "source checkout"}, nil
			}
		}
	}
	return bashCandidate{}, fmt.Errorf("no patched Bash found (looked at --bash, $%s, $%s, %v): %s",
		EnvBash, EnvCodexBash, searched, BashBuildHint)
}

// executableFile checks that p names an executable regular file and
// returns it absolute.
func executableFile(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", abs)
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("%s is not executable", abs)
	}
	return abs, nil
}

// checkoutRoot finds the execgate source checkout holding dir (the binary
// is build/execgate or ./execgate there): a go.mod declaring execgate's
// module at most two levels up.
func checkoutRoot(dir string) (string, bool) {
	for range 3 {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(mod), []byte("module github.com/execgate/execgate\n")) {
			return dir, true
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", false
}
