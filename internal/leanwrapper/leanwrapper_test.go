package leanwrapper

import (
	"os"
	"path/filepath"
	"testing"
)

// Without the embedded lean binary (plain go test), Install links the
// wrapper name to execgate itself, idempotently, and the helper is execgate.
func TestInstallWithoutEmbeddedBinary(t *testing.T) {
	if Embedded() {
		t.Skip("built with -tags leanwrapper")
	}
	dir := filepath.Join(t.TempDir(), "run")
	self := "/opt/execgate/bin/execgate"
	for range 2 {
		path, err := Install(dir, self)
		if err != nil {
			t.Fatal(err)
		}
		if path != filepath.Join(dir, Name) {
			t.Fatalf("Install = %q, want %q", path, filepath.Join(dir, Name))
		}
		if target, err := os.Readlink(path); err != nil || target != self {
			t.Fatalf("wrapper link -> %q (%v), want %q", target, err, self)
		}
		if got := Helper(path, self); got != self {
			t.Fatalf("Helper = %q, want execgate itself", got)
		}
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("runtime dir mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
}
