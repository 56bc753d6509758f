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

// With an embedded lean binary, Install writes it as the wrapper (mode 0755,
// replacing a stale one, leaving no temporary file), links the helper name
// to it, and Helper names that link.
func TestInstallEmbeddedBinary(t *testing.T) {
	saved := embedded
	t.Cleanup(func() { embedded = saved })
	dir := filepath.Join(t.TempDir(), "run")
	for _, content := range []string{"lean v1", "lean v1", "lean v2"} {
		embedded = []byte(content)
		path, err := Install(dir, "/opt/execgate/bin/execgate")
		if err != nil {
			t.Fatal(err)
		}
		if path != filepath.Join(dir, Name) {
			t.Fatalf("Install = %q, want %q", path, filepath.Join(dir, Name))
		}
		fi, err := os.Lstat(path)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o755 {
			t.Fatalf("wrapper %s: %v (%v), want a regular file with mode 0755", path, fi.Mode(), err)
		}
		if got, err := os.ReadFile(path); err != nil || string(got) != content {
			t.Fatalf("wrapper holds %q (%v), want %q", got, err, content)
		}
		helper := Helper(path, "/opt/execgate/bin/execgate")
		if helper != filepath.Join(dir, HelperName) {
			t.Fatalf("Helper = %q, want %q", helper, filepath.Join(dir, HelperName))
		}
		if target, err := os.Readlink(helper); err != nil || target != Name {
			t.Fatalf("helper link -> %q (%v), want %q", target, err, Name)
		}
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) != 2 {
			t.Fatalf("runtime dir holds %v (%v), want only %s and %s", entries, err, Name, HelperName)
		}
	}
}
