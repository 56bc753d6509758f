package modroot

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFind(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b", "c")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{root, filepath.Join(root, "a"), deep} {
		got, err := Find(dir)
		if err != nil || got != root {
			t.Errorf("Find(%s) = %q, %v; want %q", dir, got, err, root)
		}
	}
	if got, err := Find("/"); err == nil {
		t.Errorf("Find(/) = %q, want an error", got)
	}
}

// TestDirAfterChdir: a test that changed directory still gets the module
// it started in.
func TestDirAfterChdir(t *testing.T) {
	t.Chdir(t.TempDir())
	root, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "modroot", "modroot.go")); err != nil {
		t.Errorf("Dir = %s, not this module: %v", root, err)
	}
}
