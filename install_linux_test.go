package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/execgate/execgate/internal/testbash"
)

// `make install PREFIX=DIR` on a fresh copy of the repository installs
// execgate, the patched Bash and the helpers under DIR and puts nothing
// named bash in DIR/bin: make exports a PREFIX given on its command line,
// and scripts/build-bash.sh, which reads PREFIX, must still build into
// build/bash. The prebuilt patched Bash stands in for the build: it is
// placed in build/bash with its stamp, older than the build script so that
// make runs the script, which finds it up to date. Its stamp names a bogus
// source tarball given as BASH_SRC, so a script looking under DIR instead
// fails at once rather than building Bash.
func TestMakeInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds execgate with make")
	}
	for _, tool := range []string{"make", "git", "cc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s: %v", tool, err)
		}
	}
	prebuilt := testbash.Path(t)
	stamp, err := os.ReadFile(prebuilt + ".stamp")
	if err != nil {
		t.Skipf("the prebuilt patched Bash has no stamp to stand in for a build: %v", err)
	}
	patch, err := os.ReadFile("scripts/bash-exec-wrapper.patch")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(stamp, []byte("patch-sha256="+sha256Hex(patch)+"\n")) {
		t.Skipf("the prebuilt patched Bash is of another patch:\n%s", stamp)
	}

	tmp := t.TempDir()
	repo := filepath.Join(tmp, "repo")
	copyCheckout(t, ".", repo)
	bogus := filepath.Join(tmp, "bash-src.tar.gz")
	if err := os.WriteFile(bogus, []byte("not a tarball"), 0o644); err != nil {
		t.Fatal(err)
	}
	// build-bash.sh names a given source by its SHA-256.
	stamp = regexp.MustCompile(`(?m)^source=.*$`).ReplaceAll(stamp, []byte("source=file:"+sha256Hex([]byte("not a tarball"))))
	built := filepath.Join(repo, "build", "bash", "bin", "bash")
	writeFile(t, built, mustRead(t, prebuilt), 0o755)
	writeFile(t, built+".stamp", stamp, 0o644)
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(built, old, old); err != nil {
		t.Fatal(err)
	}

	prefix := filepath.Join(tmp, "prefix")
	cmd := exec.Command("make", "-C", repo, "install", "PREFIX="+prefix)
	cmd.Env = append(withoutMake(os.Environ()), "BASH_SRC="+bogus)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "build-bash: up to date") {
		t.Errorf("make install did not run build-bash.sh (the test would prove nothing):\n%s", out)
	}
	entries, err := os.ReadDir(filepath.Join(prefix, "bin"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "execgate" {
			t.Errorf("make install put %s on the PATH", filepath.Join(prefix, "bin", e.Name()))
		}
	}
	libexec := filepath.Join(prefix, "libexec", "execgate")
	if got := mustRead(t, filepath.Join(libexec, "bash")); !bytes.Equal(got, mustRead(t, prebuilt)) {
		t.Errorf("%s/bash is not the patched Bash", libexec)
	}
	for _, name := range []string{"codex-execve-wrapper", "execgate-nsexec"} {
		if fi, err := os.Stat(filepath.Join(libexec, name)); err != nil || fi.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s/%s: %v, want an executable", libexec, name, err)
		}
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// copyCheckout copies the files of the git checkout src (tracked, and new
// ones not ignored) to dst: a fresh clone with the working tree's edits.
func copyCheckout(t *testing.T, src, dst string) {
	t.Helper()
	list, err := exec.Command("git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	for _, rel := range strings.Split(strings.TrimSuffix(string(list), "\x00"), "\x00") {
		fi, err := os.Lstat(filepath.Join(src, rel))
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the working tree, or a symlink
		}
		writeFile(t, filepath.Join(dst, rel), mustRead(t, filepath.Join(src, rel)), fi.Mode().Perm())
	}
}

// withoutMake drops the variables of an enclosing make (`make test`),
// whose command-line variables would reach the inner make.
func withoutMake(env []string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "PREFIX", "BASH_SRC":
			continue
		}
		out = append(out, kv)
	}
	return out
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
}

// scripts/build-bash.sh refuses, before doing anything, a PREFIX whose bin
// directory is on the PATH (however spelled): the patched Bash there would
// shadow the system Bash.
func TestBuildBashRefusesPrefixOnPath(t *testing.T) {
	for _, c := range []struct {
		prefix, pathEntry string
		exists            bool // PREFIX/bin exists, reached through a symlink on PATH
	}{
		{prefix: "p", pathEntry: "p/bin"},
		{prefix: "p/", pathEntry: "p/bin/"},
		{prefix: "p", pathEntry: "link/bin", exists: true},
	} {
		tmp := t.TempDir()
		if c.exists {
			if err := os.MkdirAll(tmp+"/p/bin", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("p", tmp+"/link"); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command("scripts/build-bash.sh")
		// A bogus source: a script without the check fails at once
		// instead of building Bash.
		bogus := tmp + "/bash-src.tar.gz"
		if err := os.WriteFile(bogus, []byte("not a tarball"), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd.Env = append(withoutMake(os.Environ()), "BASH_SRC="+bogus,
			"PREFIX="+tmp+"/"+c.prefix, "PATH="+tmp+"/"+c.pathEntry+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "is on PATH and would shadow the system Bash") {
			t.Errorf("PREFIX=%s with %s on PATH: %v\n%s", c.prefix, c.pathEntry, err, out)
		}
		if _, err := os.Lstat(tmp + "/p/bin/bash"); err == nil {
			t.Errorf("PREFIX=%s: bin/bash was made", c.prefix)
		}
	}
}
