package resolve

import (
	"path/filepath"
	"testing"
)

// BenchmarkOpen resolves a program path without a link (the openat2 fast
// path) and one with a link in it (the walk); EvalSymlinks, for scale.
func BenchmarkOpen(b *testing.B) {
	for _, p := range []string{"/usr/bin/true", "/bin/true"} {
		b.Run(p, func(b *testing.B) {
			for b.Loop() {
				f, err := Open(p, []string{"/tmp"})
				if err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
		b.Run("EvalSymlinks"+p, func(b *testing.B) {
			for b.Loop() {
				if _, err := filepath.EvalSymlinks(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
