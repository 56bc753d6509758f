package loginenv

import (
	"os"
	"testing"
)

// BenchmarkStampOf is the per-call check of this machine's profile files.
func BenchmarkStampOf(b *testing.B) {
	files := ProfileFiles(os.Environ())
	for b.Loop() {
		StampOf(files)
	}
}
