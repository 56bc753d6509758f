//go:build unix

package testbash

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/execgate/execgate/internal/modroot"
)

// fakeRepo lays out a repository whose build script is script, so the
// build-on-demand path can be tested without compiling Bash.
func fakeRepo(t *testing.T, script string) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"go.mod":   "module fake\n",
		patchRel:   "fake patch\n",
		scriptRel:  script,
		"runs.log": "",
	}
	for rel, body := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// A well-behaved fake: chatter on stderr, installs an executable and a stamp
// for the current patch under $PREFIX, prints the path last on stdout.
const okScript = `set -eu
cd "$(dirname "$0")/.."
echo run >> runs.log
echo "chatter" >&2
echo "stdout chatter"
mkdir -p "$PREFIX/bin"
printf '#!/bin/sh\n' > "$PREFIX/bin/bash"
chmod 755 "$PREFIX/bin/bash"
echo "patch-sha256=$(sha256sum scripts/bash-exec-wrapper.patch | cut -d' ' -f1)" > "$PREFIX/bin/bash.stamp"
echo "$PREFIX/bin/bash"
`

func TestEnsureBuiltRunsScriptOnce(t *testing.T) {
	// An exported PREFIX (e.g. from `make install PREFIX=...`) must not move
	// the test build out of the repository.
	t.Setenv("PREFIX", filepath.Join(t.TempDir(), "elsewhere"))
	root := fakeRepo(t, okScript)
	want := filepath.Join(root, binaryRel)
	for i := range 3 {
		got, err := ensureBuilt(t.Context(), root)
		if err != nil || got != want {
			t.Fatalf("call %d: ensureBuilt = %q, %v; want %q", i, got, err, want)
		}
	}
	runs, err := os.ReadFile(filepath.Join(root, "runs.log"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(runs), "run"); n != 1 {
		t.Errorf("build script ran %d times, want 1", n)
	}

	// A new patch makes the stamp stale: the script runs again.
	if err := os.WriteFile(filepath.Join(root, patchRel), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ensureBuilt(t.Context(), root); err != nil {
		t.Fatal(err)
	}
	runs, _ = os.ReadFile(filepath.Join(root, "runs.log"))
	if n := strings.Count(string(runs), "run"); n != 2 {
		t.Errorf("after a patch change the build script ran %d times in all, want 2", n)
	}
}

// The files the patch adds to Bash's build (scripts/bash/) are part of its
// identity, as scripts/build-bash.sh records it: editing one rebuilds.
func TestEnsureBuiltTracksAddedSources(t *testing.T) {
	t.Setenv("PREFIX", filepath.Join(t.TempDir(), "elsewhere"))
	root := fakeRepo(t, strings.Replace(okScript, "sha256sum scripts/bash-exec-wrapper.patch",
		"cat scripts/bash-exec-wrapper.patch scripts/bash/* | sha256sum", 1))
	added := filepath.Join(root, "scripts", "bash")
	if err := os.MkdirAll(added, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"client.c": "int x;\n", "client.h": "extern int x;\n"} {
		if err := os.WriteFile(filepath.Join(added, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	runs := func() int {
		b, _ := os.ReadFile(filepath.Join(root, "runs.log"))
		return strings.Count(string(b), "run")
	}
	for range 2 {
		if _, err := ensureBuilt(t.Context(), root); err != nil {
			t.Fatal(err)
		}
	}
	if n := runs(); n != 1 {
		t.Fatalf("build script ran %d times, want 1 (the stamp should match the patch and its sources)", n)
	}
	if err := os.WriteFile(filepath.Join(added, "client.c"), []byte("int y;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ensureBuilt(t.Context(), root); err != nil {
		t.Fatal(err)
	}
	if n := runs(); n != 2 {
		t.Errorf("after an added source changed the build script ran %d times in all, want 2", n)
	}
}

func TestEnsureBuiltReportsFailures(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   []string // substrings of the error
	}{
		{"script fails", "echo 'configure: error: no compiler' >&2\nexit 3\n",
			[]string{"exit status 3", "configure: error: no compiler", "build log tail"}},
		{"relative path printed", "echo build/bash/bin/bash\n",
			[]string{"not an absolute path"}},
		{"path printed but missing", "echo /nonexistent/bash\n",
			[]string{"/nonexistent/bash"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := fakeRepo(t, tc.script)
			_, err := ensureBuilt(t.Context(), root)
			if err == nil {
				t.Fatal("ensureBuilt succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestBuildScriptInstallsNothing: the build `go test` starts on demand (the
// real scripts/build-bash.sh, without --install-deps) must not change the
// system, even as root on a machine with apt-get and missing build tools:
// no apt-get update or install (nor, after them, a deb-src entry). It
// fails and names the command that may. The machine's apt-get is replaced
// by one that logs its arguments and fails, and gcc and make are hidden,
// so that the script would otherwise reach its install steps.
func TestBuildScriptInstallsNothing(t *testing.T) {
	root, err := modroot.Dir()
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join(root, scriptRel))
	if err != nil {
		t.Fatal(err)
	}
	tools := t.TempDir()
	entries, err := os.ReadDir("/usr/bin")
	if err != nil {
		t.Fatal(err)
	}
	hidden := map[string]bool{"gcc": true, "make": true, "apt-get": true, "curl": true, "wget": true}
	for _, e := range entries {
		if !hidden[e.Name()] {
			if err := os.Symlink(filepath.Join("/usr/bin", e.Name()), filepath.Join(tools, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	aptLog := filepath.Join(t.TempDir(), "apt-get.log")
	aptGet := "#!/bin/sh\necho \"$*\" >>" + aptLog + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(tools, "apt-get"), []byte(aptGet), 0o755); err != nil {
		t.Fatal(err)
	}
	// A source tree the script accepts as bash 5.2 (it fails at the build
	// tools, before configure).
	src := t.TempDir()
	for name, body := range map[string]string{"configure": "PACKAGE_VERSION='5.2'\n", "execute_cmd.c": ""} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		args []string
		hint bool // the failure names the command that may install
	}{
		{"apt source", nil, false},
		{"given source", []string{"--source", src}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo := fakeRepo(t, string(script))
			cmd := exec.CommandContext(t.Context(), "/bin/bash", append([]string{filepath.Join(repo, scriptRel)}, tc.args...)...)
			cmd.Env = []string{"PATH=" + tools, "HOME=" + t.TempDir(), "PREFIX=" + filepath.Join(repo, prefixRel)}
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the build succeeded without gcc and make:\n%s", out)
			}
			calls, _ := os.ReadFile(aptLog)
			for _, l := range strings.Split(string(calls), "\n") {
				if f := strings.Fields(l); slices.Contains(f, "update") || slices.Contains(f, "install") {
					t.Errorf("the script ran apt-get %s\n%s", l, out)
				}
			}
			if tc.hint && !strings.Contains(string(out), "--install-deps") {
				t.Errorf("the failure does not name --install-deps:\n%s", out)
			}
		})
	}
}
