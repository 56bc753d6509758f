//go:build unix

package testbash

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
