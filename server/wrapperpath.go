package server

import (
	"fmt"
	"os"
	"path/filepath"
)

// WrapperName is the argv[0] the patched Bash execs the wrapper role under
// (Codex's name, so Codex's Bash builds and configs keep working).
const WrapperName = "codex-execve-wrapper"

// WrapperPath returns the execve wrapper for EXEC_WRAPPER: --execve if
// given; else an installed WrapperName next to the binary that resolves to
// it; else a private symlink WrapperName -> exe in a fresh 0700 directory, so
// `go run . server` works without installing. cleanup removes what was
// created (call it at exit).
func WrapperPath(opts *Options, exe string) (path string, cleanup func(), err error) {
	noop := func() {}
	if opts.Execve != "" {
		abs, err := filepath.Abs(opts.Execve)
		if err != nil {
			return "", noop, fmt.Errorf("flag --execve %q: %w", opts.Execve, err)
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return "", noop, fmt.Errorf("flag --execve: %w", err)
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return "", noop, fmt.Errorf("flag --execve: %s is not an executable file", abs)
		}
		return abs, noop, nil
	}
	real, err := filepath.EvalSymlinks(exe)
	if err != nil {
		return "", noop, fmt.Errorf("resolving this executable %s: %w", exe, err)
	}
	installed := filepath.Join(filepath.Dir(exe), WrapperName)
	if r, err := filepath.EvalSymlinks(installed); err == nil && r == real {
		return installed, noop, nil
	}
	dir, err := os.MkdirTemp("", "execgate-wrapper-")
	if err != nil {
		return "", noop, fmt.Errorf("private wrapper directory: %w", err)
	}
	link := filepath.Join(dir, WrapperName)
	if err := os.Symlink(real, link); err != nil {
		os.RemoveAll(dir)
		return "", noop, fmt.Errorf("wrapper symlink %s: %w", link, err)
	}
	return link, func() { os.RemoveAll(dir) }, nil
}
