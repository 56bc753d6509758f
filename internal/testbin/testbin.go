// Package testbin builds the project's binaries for tests that run them as
// processes, once per test process and set of flags, the way the Makefile
// builds them (static: CGO_ENABLED=0), execgate with its sandbox helper and
// the namespace launcher beside it (where the server looks when the patched
// Bash has none next to it, as the shared test Bash does not).
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/execgate/execgate/internal/modroot"
)

// Execgate is the package tests build.
const Execgate = "github.com/execgate/execgate"

type result struct {
	path string
	err  error
}

var (
	mu     sync.Mutex
	dir    string
	builds = map[string]*result{}
)

// Build compiles pkg with the extra `go build` flags into a directory of
// this test process and returns the binary's path; the same package and
// flags are built once.
func Build(pkg string, flags ...string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	key := pkg + " " + strings.Join(flags, " ")
	if r, ok := builds[key]; ok {
		return r.path, r.err
	}
	r := &result{}
	builds[key] = r
	if dir == "" {
		if dir, r.err = os.MkdirTemp("", "execgate-testbin-"); r.err != nil {
			return "", r.err
		}
		// Tests also run the binaries as uid 65534.
		if r.err = os.Chmod(dir, 0o755); r.err != nil {
			return "", r.err
		}
	}
	out := filepath.Join(dir, fmt.Sprintf("bin%d", len(builds)), filepath.Base(pkg))
	if r.err = os.MkdirAll(filepath.Dir(out), 0o755); r.err != nil {
		return "", r.err
	}
	if pkg != Execgate {
		if r.err = goBuild(out, pkg, flags); r.err != nil {
			return "", r.err
		}
		r.path = out
		return out, nil
	}
	// As `make build`: execgate and the sandbox helper beside it, paired
	// (internal/buildinfo.Pair), so tests run the helper users get.
	flags = withPair(flags, fmt.Sprintf("test-%d-%d", os.Getpid(), len(builds)))
	if r.err = goBuild(out, pkg, flags); r.err != nil {
		return "", r.err
	}
	if r.err = goBuild(filepath.Join(filepath.Dir(out), "execgate-sandbox"), Execgate+"/cmd/execgate-sandbox", flags); r.err != nil {
		return "", r.err
	}
	// What scripts/build-bash.sh builds next to the patched Bash; the
	// server also finds it next to itself.
	if r.err = buildNsexec(filepath.Dir(out)); r.err != nil {
		return "", r.err
	}
	r.path = out
	return out, nil
}

// withPair adds the pairing stamp to flags' -ldflags (or adds one).
func withPair(flags []string, pair string) []string {
	x := "-X github.com/execgate/execgate/internal/buildinfo.Pair=" + pair
	out := append([]string(nil), flags...)
	for i, f := range out {
		if v, ok := strings.CutPrefix(f, "-ldflags="); ok {
			out[i] = "-ldflags=" + v + " " + x
			return out
		}
	}
	return append(out, "-ldflags="+x)
}

// goBuild builds pkg into out the way the Makefile does (static).
func goBuild(out, pkg string, flags []string) error {
	args := append(append([]string{"build", "-o", out}, flags...), pkg)
	cmd := exec.Command("go", args...)
	// In the module, whatever directory the test has changed to.
	dir, err := modroot.Dir()
	if err != nil {
		return err
	}
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

// NsexecSources are the sandbox launcher's C files: every .c file in dir
// (the module's sandbox/nsexec), as scripts/build-bash.sh compiles them.
func NsexecSources(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.c"))
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("no C files in %s", dir)
	}
	return files, err
}

// buildNsexec compiles the sandbox launcher (sandbox/nsexec)
// into dir, as the Makefile does. Without a C compiler it fails: the
// server runs no call without the launcher.
func buildNsexec(dir string) error {
	cc, err := exec.LookPath("cc")
	if err != nil {
		return fmt.Errorf("the sandbox launcher needs a C compiler: %w", err)
	}
	root, err := modroot.Dir()
	if err != nil {
		return err
	}
	src := filepath.Join(root, "sandbox", "nsexec")
	out := filepath.Join(dir, "execgate-nsexec")
	files, err := NsexecSources(src)
	if err != nil {
		return err
	}
	args := append([]string{"-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-static", "-o", out}, files...)
	if b, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", cc, src, err, b)
	}
	return nil
}

// Must is Build for a test: a failed build fails it.
func Must(t testing.TB, pkg string, flags ...string) string {
	t.Helper()
	path, err := Build(pkg, flags...)
	if err != nil {
		t.Fatalf("building %s: %v", pkg, err)
	}
	return path
}

// Cleanup removes everything Build made; call it from TestMain after m.Run.
func Cleanup() {
	mu.Lock()
	defer mu.Unlock()
	if dir != "" {
		os.RemoveAll(dir)
	}
	dir = ""
	builds = map[string]*result{}
}
