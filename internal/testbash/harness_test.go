//go:build linux

package testbash

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// result is what one Bash run produced.
type result struct {
	stdout, stderr string
	code           int
}

// wrapperScript logs "COMMAND ARGV0 ARGV1 ..." to its log, then runs COMMAND
// with the original argv (argv[0] included). It runs under the unpatched
// system Bash, so it is not itself intercepted.
const wrapperScript = `#!/bin/bash
printf '%s\n' "$*" >> LOGFILE
exec -a "$2" "$1" "${@:3}"
`

// newWrapper writes a logging wrapper into dir and returns its path and log.
func newWrapper(t *testing.T, dir, name string) (wrapper, logPath string) {
	t.Helper()
	wrapper = filepath.Join(dir, name)
	logPath = filepath.Join(dir, name+".log")
	body := strings.Replace(wrapperScript, "LOGFILE", shellQuote(logPath), 1)
	if err := os.WriteFile(wrapper, []byte(body), 0o755); err != nil {
		t.Fatalf("writing wrapper: %v", err)
	}
	return wrapper, logPath
}

// logLines returns what the wrapper logged (nil if it never ran).
func logLines(t *testing.T, logPath string) []string {
	t.Helper()
	b, err := os.ReadFile(logPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		t.Fatalf("reading wrapper log: %v", err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// baseEnv is a small fixed environment: the test's own environment may carry
// EXEC_WRAPPER (e.g. when the suite itself runs under execgate).
func baseEnv(dir string, extra ...string) []string {
	return append([]string{"PATH=/usr/bin:/bin", "HOME=" + dir, "LC_ALL=C"}, extra...)
}

// runBash runs `bash -c script` in dir with env and returns what it did.
func runBash(t *testing.T, bash, dir string, env []string, script string) result {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bash, "-c", script)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && exitErr.ExitCode() >= 0:
		res.code = exitErr.ExitCode()
	default:
		t.Fatalf("running %s -c %q: %v (stderr: %s)", bash, script, err, res.stderr)
	}
	return res
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
