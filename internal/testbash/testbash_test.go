package testbash

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/execgate/execgate/internal/modroot"
)

func TestStampMatches(t *testing.T) {
	dir := t.TempDir()
	patch := filepath.Join(dir, "p.patch")
	if err := os.WriteFile(patch, []byte("patch body\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("patch body\n"))
	good := hex.EncodeToString(sum[:])
	tests := []struct {
		name  string
		stamp *string // nil: no stamp file
		want  bool
	}{
		{"no stamp", nil, false},
		{"matching", ptr("patch-sha256=" + good + "\nrecipe=v1\n"), true},
		{"matching, not first line", ptr("recipe=v1\npatch-sha256=" + good + "\n"), true},
		{"other patch", ptr("patch-sha256=" + good[1:] + "0\n"), false},
		{"no patch line", ptr("recipe=v1\n"), false},
		{"empty", ptr(""), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stamp := filepath.Join(t.TempDir(), "bash.stamp")
			if tc.stamp != nil {
				if err := os.WriteFile(stamp, []byte(*tc.stamp), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := stampMatches(stamp, patch)
			if err != nil || got != tc.want {
				t.Errorf("stampMatches = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if _, err := stampMatches(filepath.Join(dir, "stamp"), filepath.Join(dir, "missing.patch")); err == nil {
		t.Error("stampMatches with a missing patch: want an error")
	}
}

func ptr(s string) *string { return &s }

func TestPathHonoursOverride(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "bash")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvTestBash, exe)
	if got := Path(t); got != exe {
		t.Errorf("Path = %q, want %q", got, exe)
	}
}

func TestCheckExecutable(t *testing.T) {
	dir := t.TempDir()
	plainFile := filepath.Join(dir, "f")
	if err := os.WriteFile(plainFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{plainFile, dir, filepath.Join(dir, "missing")} {
		if _, err := checkExecutable(p); err == nil {
			t.Errorf("checkExecutable(%s): want an error", p)
		}
	}
}

func TestLastLineAndTail(t *testing.T) {
	if got := lastLine("a\nb\n/x/bash\n"); got != "/x/bash" {
		t.Errorf("lastLine = %q", got)
	}
	if got := tail("1\n2\n3\n", 2); got != "2\n3" {
		t.Errorf("tail = %q", got)
	}
}

// TestPathAfterChdir: a test that changed directory first (t.Chdir, as the
// server's project rules tests do) still gets the repository's Bash.
func TestPathAfterChdir(t *testing.T) {
	root, err := modroot.Dir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, patchRel)); err != nil {
		t.Fatalf("repo root %s has no %s: %v", root, patchRel, err)
	}
	t.Setenv(EnvTestBash, "")
	t.Chdir(t.TempDir())
	if got, want := Path(t), filepath.Join(root, binaryRel); got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
}
