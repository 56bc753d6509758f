package engine

import (
	"os"
	"path/filepath"
	"testing"
)

// installWrapper links the wrapper name to execgate, idempotently, and
// replaces a link to anything else.
func TestInstallWrapper(t *testing.T) {
	dir := t.TempDir()
	self := "/opt/execgate/bin/execgate"
	if err := os.Symlink("/somewhere/else", filepath.Join(dir, wrapperName)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		path, err := installWrapper(dir, self)
		if err != nil {
			t.Fatal(err)
		}
		if path != filepath.Join(dir, wrapperName) {
			t.Fatalf("installWrapper = %q, want %q", path, filepath.Join(dir, wrapperName))
		}
		if target, err := os.Readlink(path); err != nil || target != self {
			t.Fatalf("wrapper link -> %q (%v), want %q", target, err, self)
		}
	}
}
