package engine

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Environment variables naming the patched Bash, in order of precedence
// (after the --bash flag). CODEX_BASH_PATH keeps Codex setups working.
const (
	EnvBash      = "EXECGATE_BASH"
	envCodexBash = "CODEX_BASH_PATH"
)

// bashBuildHint says how to get a Bash that honours the execve wrapper.
const bashBuildHint = "build the patched Bash with scripts/build-bash.sh (or `make bash`) and pass it with --bash or $" + EnvBash

// bashCandidate is one place the patched Bash may be, and who said so.
type bashCandidate struct {
	path, source string
}

// findBash returns the patched Bash to use: the --bash flag (or config),
// $EXECGATE_BASH, $CODEX_BASH_PATH, then <prefix>/libexec/execgate/bash next
// to an installed binary (exe in <prefix>/bin), then build/bash/bin/bash of
// the source checkout exe was built in, or, for a binary `go run` built
// (exe in the go command's temporary work directory), of the execgate
// checkout holding the working directory cwd. An explicitly named Bash must
// exist; the searched places are skipped when missing, and when none has
// it the error names the one command that builds it.
func findBash(flag string, getenv func(string) string, exe, cwd string) (bashCandidate, error) {
	for _, c := range []bashCandidate{
		{flag, "flag --bash"},
		{getenv(EnvBash), "$" + EnvBash},
		{getenv(envCodexBash), "$" + envCodexBash},
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
	checkout := ""
	if exe != "" {
		dir := filepath.Dir(exe)
		installed := filepath.Join(libexecDir(exe), "bash")
		searched = append(searched, installed)
		if abs, err := executableFile(installed); err == nil {
			return bashCandidate{abs, "install prefix"}, nil
		}
		if root, ok := checkoutRoot(dir); ok {
			checkout = root
			built := filepath.Join(root, "build", "bash", "bin", "bash")
			searched = append(searched, built)
			if abs, err := executableFile(built); err == nil {
				return bashCandidate{abs, "source checkout"}, nil
			}
		}
	}
	// Only for `go run`: it compiled the checkout around cwd, so its build
	// directory is trusted as much as that code. An installed or copied
	// binary started in some repository must not run a bash from there.
	if checkout == "" && goRunBinary(exe) && cwd != "" {
		if root, ok := moduleRoot(cwd); ok {
			checkout = root
			built := filepath.Join(root, "build", "bash", "bin", "bash")
			searched = append(searched, built)
			if abs, err := executableFile(built); err == nil {
				return bashCandidate{abs, "checkout of the working directory (go run)"}, nil
			}
		}
	}
	hint := bashBuildHint
	if checkout != "" {
		hint = fmt.Sprintf("build it with `make bash` in %s (or pass one with --bash or $%s)", checkout, EnvBash)
	}
	return bashCandidate{}, fmt.Errorf("no patched Bash found (looked at --bash, $%s, $%s, %v): %s",
		EnvBash, envCodexBash, searched, hint)
}

// libexecDir is where `make install` puts what the execgate binary exe
// (PREFIX/bin/execgate) runs besides itself: PREFIX/libexec/execgate.
func libexecDir(exe string) string {
	return filepath.Clean(filepath.Join(filepath.Dir(exe), "..", "libexec", "execgate"))
}

// goRunBinary reports whether exe was built by `go run`, which links the
// program as WORK/b001/exe/NAME in a fresh work directory named go-build*,
// or (Go 1.24 on) runs it from the build cache as GOCACHE/XX/XX...-d/NAME,
// XX... being the 64 hex digits of the action's hash.
func goRunBinary(exe string) bool {
	if exe == "" {
		return false
	}
	dir := filepath.Dir(exe)
	if filepath.Base(dir) == "exe" && strings.HasPrefix(filepath.Base(filepath.Dir(filepath.Dir(dir))), "go-build") {
		return true
	}
	hash, ok := strings.CutSuffix(filepath.Base(dir), "-d")
	return ok && len(hash) == 64 && strings.Trim(hash, "0123456789abcdef") == "" &&
		filepath.Base(filepath.Dir(dir)) == hash[:2]
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
		isExecgate, err := execgateModule(dir)
		if isExecgate {
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

// moduleRoot returns the root of the Go module holding dir (the nearest
// directory up with a go.mod, as the go command finds it) when that module
// is execgate.
func moduleRoot(dir string) (string, bool) {
	for {
		isExecgate, err := execgateModule(dir)
		if !errors.Is(err, os.ErrNotExist) {
			return dir, isExecgate
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// execgateModule reports whether dir/go.mod declares execgate's module;
// the error is reading it.
func execgateModule(dir string) (bool, error) {
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false, err
	}
	return bytes.HasPrefix(bytes.TrimSpace(mod), []byte("module github.com/execgate/execgate\n")), nil
}
