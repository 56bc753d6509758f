package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Environment variables naming the patched Bash, in order of precedence
// (after the --bash flag). CODEX_BASH_PATH keeps Codex setups working.
const (
	EnvBash      = "EXECGATE_BASH"
	EnvCodexBash = "CODEX_BASH_PATH"
)

// bashBuildHint tells the user how to get a patched Bash.
const bashBuildHint = "build it with `make bash` (scripts/build-bash.sh) and pass --bash PATH or set " + EnvBash

// BashCandidate is one place the patched Bash may be.
type BashCandidate struct {
	Path     string
	From     string // where the path came from, for messages: "--bash", "$EXECGATE_BASH", ...
	Explicit bool   // named by the user: a failure is an error, not a reason to look further
}

// BashCandidates lists where the patched Bash is looked for, in order: the
// --bash flag, $EXECGATE_BASH, $CODEX_BASH_PATH, the install prefix
// (<prefix>/lib/execgate/bash next to <prefix>/bin/execgate), the repo's
// build directory next to the binary (build/execgate, build/bash/bin/bash),
// and build/bash/bin/bash under the current directory (`go run . server`
// from the repo root).
func BashCandidates(opts *Options, getenv func(string) string, exe, cwd string) []BashCandidate {
	var cs []BashCandidate
	if opts.Bash != "" {
		return []BashCandidate{{Path: opts.Bash, From: "--bash", Explicit: true}}
	}
	for _, env := range []string{EnvBash, EnvCodexBash} {
		if p := getenv(env); p != "" {
			return []BashCandidate{{Path: p, From: "$" + env, Explicit: true}}
		}
	}
	if exe != "" {
		dir := filepath.Dir(exe)
		cs = append(cs,
			BashCandidate{Path: filepath.Join(dir, "..", "lib", "execgate", "bash"), From: "install prefix"},
			BashCandidate{Path: filepath.Join(dir, "bash", "bin", "bash"), From: "build directory"},
		)
	}
	if cwd != "" {
		cs = append(cs, BashCandidate{Path: filepath.Join(cwd, "build", "bash", "bin", "bash"), From: "build directory"})
	}
	return cs
}

// FindBash returns the first candidate that exists, after checking that it
// is a patched Bash (ProbeBash). An explicitly named Bash that fails is an
// error: silently falling back would hide the user's mistake.
func FindBash(ctx context.Context, cands []BashCandidate) (string, error) {
	var looked []string
	for _, c := range cands {
		abs, err := filepath.Abs(c.Path)
		if err != nil {
			return "", fmt.Errorf("patched Bash from %s: %w", c.From, err)
		}
		if _, err := os.Stat(abs); err != nil {
			if c.Explicit || !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("patched Bash from %s: %w; %s", c.From, err, bashBuildHint)
			}
			looked = append(looked, abs)
			continue
		}
		if err := ProbeBash(ctx, abs); err != nil {
			return "", fmt.Errorf("patched Bash from %s: %w", c.From, err)
		}
		return abs, nil
	}
	return "", fmt.Errorf("no patched Bash found (looked in %s); %s", strings.Join(looked, ", "), bashBuildHint)
}

// ProbeBash checks that the Bash at path routes execs through
// $EXEC_WRAPPER: with /bin/echo as the wrapper, `/bin/echo probe` must come
// out as the wrapper's argv (WRAPPER FILE ARGV...). A stock Bash just
// prints "probe", and would run every command without asking the policy.
func ProbeBash(ctx context.Context, path string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--noprofile", "--norc", "-c", "/bin/echo probe; :")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "EXEC_WRAPPER=/bin/echo", "BASH_EXEC_WRAPPER=/bin/echo"}
	cmd.Dir = "/"
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("probing %s: %w", path, err)
	}
	switch got := string(bytes.TrimSpace(out)); got {
	case "/bin/echo /bin/echo probe":
		return nil
	case "probe":
		return fmt.Errorf("%s is not the patched Bash (it ignores EXEC_WRAPPER, so commands would bypass the policy); %s", path, bashBuildHint)
	default:
		return fmt.Errorf("probing %s: unexpected output %q (want the wrapper's argv); %s", path, got, bashBuildHint)
	}
}
