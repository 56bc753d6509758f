package sandbox

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestKernelABIHeader: the kernel constants and structures the helper
// declares itself (nsexec/kabi.h, since musl ships no kernel headers) are
// the kernel's: testdata/kabi_check.c asserts each against the kernel's
// own headers at compile time.
func TestKernelABIHeader(t *testing.T) {
	out := filepath.Join(t.TempDir(), "kabi_check")
	b, err := exec.Command("cc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-o", out, "testdata/kabi_check.c").CombinedOutput()
	if err != nil {
		t.Fatalf("nsexec/kabi.h does not match the kernel's headers (or they are missing: apt-get install linux-libc-dev): %v\n%s", err, b)
	}
}
