package companion

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeExe(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/true\n"), mode); err != nil {
		t.Fatal(err)
	}
}

// A companion next to the first binary named (the patched Bash) wins over
// one next to the second (execgate);
// without it the one next to execgate is used; symlinks to either binary
// are followed to its real directory; with neither there is none.
func TestPath(t *testing.T) {
	root := t.TempDir()
	bashDir, selfDir := filepath.Join(root, "libexec"), filepath.Join(root, "bin")
	bash, self := filepath.Join(bashDir, "bash"), filepath.Join(selfDir, "execgate")
	writeExe(t, bash, 0o755)
	writeExe(t, self, 0o755)
	linkDir := filepath.Join(root, "links")
	if err := os.Mkdir(linkDir, 0o755); err != nil {
		t.Fatal(err)
	}
	bashLink, selfLink := filepath.Join(linkDir, "bash"), filepath.Join(linkDir, "execgate")
	if err := os.Symlink(bash, bashLink); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, selfLink); err != nil {
		t.Fatal(err)
	}

	if got, err := Path(NSExec, bashLink, selfLink); got != "" || err != nil {
		t.Fatalf("with no launcher: Path = %q, %v; want none", got, err)
	}
	writeExe(t, filepath.Join(selfDir, NSExec), 0o755)
	if got, err := Path(NSExec, bashLink, selfLink); got != filepath.Join(selfDir, NSExec) || err != nil {
		t.Fatalf("launcher next to execgate: Path = %q, %v", got, err)
	}
	writeExe(t, filepath.Join(bashDir, NSExec), 0o755)
	if got, err := Path(NSExec, bashLink, selfLink); got != filepath.Join(bashDir, NSExec) || err != nil {
		t.Fatalf("launcher next to the Bash: Path = %q, %v", got, err)
	}
	if err := os.Chmod(filepath.Join(bashDir, NSExec), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := Path(NSExec, bashLink, selfLink); err == nil || !strings.Contains(err.Error(), "not an executable file") {
		t.Fatalf("non-executable launcher next to the Bash: Path = %q, %v; want an error", got, err)
	}
}
