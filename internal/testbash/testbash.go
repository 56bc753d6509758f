// Package testbash gives tests the patched Bash built by scripts/build-bash.sh
// (and the system Bash to compare it with).
//
// Path resolves, in order: $EXECGATE_TEST_BASH; <repo>/build/bash/bin/bash
// when its stamp records the current scripts/bash-exec-wrapper.patch; else it
// runs scripts/build-bash.sh (serialized across test binaries by a file lock)
// and uses the path the script prints last. A failed build fails the test: a
// missing Bash must never turn the interception tests into silent skips.
// The script runs without --install-deps: a test never changes the system
// (apt, /etc/apt); when build tools are missing, the failure says to run
// `make bash`, which may.
package testbash

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/execgate/execgate/internal/modroot"
)

// EnvTestBash names a prebuilt patched Bash to use instead of building one.
const EnvTestBash = "EXECGATE_TEST_BASH"

// SystemBash is the unpatched Bash used for side-by-side comparisons.
const SystemBash = "/bin/bash"

// Paths inside the repository, relative to its root.
const (
	patchRel   = "scripts/bash-exec-wrapper.patch"
	scriptRel  = "scripts/build-bash.sh"
	prefixRel  = "build/bash"
	binaryRel  = prefixRel + "/bin/bash"
	lockRel    = "build/testbash.lock"
	stampExt   = ".stamp"
	buildLimit = 60 * time.Minute
	logTail    = 40
)

// Path returns the absolute path of the patched Bash, building it if needed.
func Path(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvTestBash); p != "" {
		abs, err := checkExecutable(p)
		if err != nil {
			t.Fatalf("testbash: $%s: %v", EnvTestBash, err)
		}
		return abs
	}
	// The module the test binary started in: the test may have changed
	// directory since.
	root, err := modroot.Dir()
	if err != nil {
		t.Fatalf("testbash: %v", err)
	}
	p, err := ensureBuilt(t.Context(), root)
	if err != nil {
		t.Fatalf("testbash: %v", err)
	}
	return p
}

// Plain returns the system Bash (unpatched) for side-by-side comparisons.
func Plain(t testing.TB) string {
	t.Helper()
	p, err := checkExecutable(SystemBash)
	if err != nil {
		t.Fatalf("testbash: system bash: %v", err)
	}
	return p
}

// ensureBuilt returns the repo's patched Bash, running the build script
// under an exclusive lock when the binary is missing or stale.
func ensureBuilt(ctx context.Context, root string) (string, error) {
	bin := filepath.Join(root, binaryRel)
	patch := filepath.Join(root, patchRel)
	if ok, err := stampMatches(bin+stampExt, patch); err != nil {
		return "", err
	} else if ok && isExecutable(bin) {
		return bin, nil
	}

	if err := os.MkdirAll(filepath.Join(root, "build"), 0o755); err != nil {
		return "", fmt.Errorf("creating build directory: %w", err)
	}
	unlock, err := lockFile(filepath.Join(root, lockRel))
	if err != nil {
		return "", err
	}
	defer unlock()

	// Another test binary may have finished the build while we waited.
	if ok, err := stampMatches(bin+stampExt, patch); err != nil {
		return "", err
	} else if ok && isExecutable(bin) {
		return bin, nil
	}
	return runBuild(ctx, root)
}

// runBuild runs scripts/build-bash.sh and returns the last line it prints.
func runBuild(ctx context.Context, root string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, buildLimit)
	defer cancel()
	script := filepath.Join(root, scriptRel)
	cmd := exec.CommandContext(ctx, "/bin/bash", script)
	cmd.Dir = root
	// Pin the prefix: a PREFIX exported for `make install` must not move
	// the test build out of the repository.
	cmd.Env = append(os.Environ(), "PREFIX="+filepath.Join(root, prefixRel))
	var stdout, combined bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &combined
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s failed after %s: %w\n--- build log tail ---\n%s",
			script, time.Since(start).Round(time.Second), err, tail(combined.String()+stdout.String(), logTail))
	}
	p := lastLine(stdout.String())
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("%s: last output line %q is not an absolute path\n--- build log tail ---\n%s",
			script, p, tail(combined.String(), logTail))
	}
	if _, err := checkExecutable(p); err != nil {
		return "", fmt.Errorf("%s printed %s: %w", script, p, err)
	}
	return p, nil
}

// patchIdentity is the SHA-256 scripts/build-bash.sh records for the patch:
// of the patch followed by the files it adds to Bash's build (the bash/
// directory beside it, in name order).
func patchIdentity(patchPath string) (string, error) {
	h := sha256.New()
	patch, err := os.ReadFile(patchPath)
	if err != nil {
		return "", fmt.Errorf("reading patch: %w", err)
	}
	h.Write(patch)
	added, err := filepath.Glob(filepath.Join(filepath.Dir(patchPath), "bash", "*"))
	if err != nil {
		return "", fmt.Errorf("listing the patch's added sources: %w", err)
	}
	for _, p := range added { // Glob sorts by name
		b, err := os.ReadFile(p)
		if err != nil {
			return "", fmt.Errorf("reading the patch's added source: %w", err)
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// stampMatches reports whether the build stamp records the patch's identity.
// A missing stamp or patch is "no match" for the stamp, an error for the patch.
func stampMatches(stampPath, patchPath string) (bool, error) {
	want, err := patchIdentity(patchPath)
	if err != nil {
		return false, err
	}

	f, err := os.Open(stampPath)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("reading build stamp: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "patch-sha256="); ok {
			return v == want, nil
		}
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("reading build stamp %s: %w", stampPath, err)
	}
	return false, nil
}

func checkExecutable(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("absolute path of %q: %w", p, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("stat %s: %w", abs, err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("%s is not an executable file (mode %v)", abs, fi.Mode())
	}
	return abs, nil
}

func isExecutable(p string) bool {
	_, err := checkExecutable(p)
	return err == nil
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
