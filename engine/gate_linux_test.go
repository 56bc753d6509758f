package engine

import (
	"slices"
	"testing"
)

func TestLoaderTarget(t *testing.T) {
	tests := []struct {
		argv []string
		prog string
		rest []string
		ok   bool
	}{
		{[]string{"ld.so", "/usr/bin/printf", "x"}, "/usr/bin/printf", []string{"x"}, true},
		{[]string{"ld.so", "--library-path", "/lib", "--inhibit-cache", "printf", "x"}, "printf", []string{"x"}, true},
		{[]string{"ld.so", "--argv0", "foo", "--", "/usr/bin/printf"}, "/usr/bin/printf", []string{}, true},
		{[]string{"ld.so", "--list"}, "", nil, false},
		{[]string{"ld.so"}, "", nil, false},
	}
	for _, tc := range tests {
		prog, rest, ok := loaderTarget(tc.argv)
		if prog != tc.prog || ok != tc.ok || len(rest) != len(tc.rest) || len(rest) > 0 && !slices.Equal(rest, tc.rest) {
			t.Errorf("loaderTarget(%q) = %q %q %v, want %q %q %v", tc.argv, prog, rest, ok, tc.prog, tc.rest, tc.ok)
		}
	}
}

func TestIsLoader(t *testing.T) {
	for _, name := range []string{"ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "ld-linux.so.2", "ld.so", "ld64.so.2", "ld-musl-x86_64.so.1", "ld-2.31.so"} {
		if !isLoader(name) {
			t.Errorf("%s is a loader", name)
		}
	}
	for _, name := range []string{"ld", "ldd", "ldconfig", "printf", "ld-linux", "gold"} {
		if isLoader(name) {
			t.Errorf("%s is not a loader", name)
		}
	}
}
