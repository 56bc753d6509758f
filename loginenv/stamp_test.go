package loginenv

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestProfileFiles(t *testing.T) {
	got := ProfileFiles([]string{"HOME=/h", "BASH_ENV=/e/env", "HOME=/second"})
	want := []string{"/etc/profile", "/etc/bash.bashrc", "/etc/profile.d", "/h/.bash_profile", "/h/.bash_login", "/h/.profile", "/h/.bashrc", "/e/env"}
	if !slices.Equal(got, want) {
		t.Errorf("ProfileFiles = %q, want %q", got, want)
	}
	if got := ProfileFiles([]string{"HOME=relative", "BASH_ENV=rel"}); len(got) != 3 {
		t.Errorf("relative HOME and BASH_ENV used: %q", got)
	}
}

// TestStampChanges: every way of changing what a login shell reads changes
// the stamp, and nothing else does.
func TestStampChanges(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, ".profile")
	earlier := filepath.Join(dir, ".bash_profile")
	d := filepath.Join(dir, "profile.d")
	write(t, profile, "export A=1\n")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(d, "a.sh"), "export B=1\n")
	files := []string{earlier, profile, d}
	steps := []struct {
		name   string
		change func()
	}{
		{"rewrite, same size", func() { write(t, profile, "export A=2\n") }},
		{"mtime only", func() {
			old := time.Now().Add(-time.Hour)
			if err := os.Chtimes(profile, old, old); err != nil {
				t.Fatal(err)
			}
		}},
		{"replace by rename", func() {
			tmp := filepath.Join(dir, "new")
			write(t, tmp, "export A=2\n")
			if err := os.Rename(tmp, profile); err != nil {
				t.Fatal(err)
			}
		}},
		{"earlier file created", func() { write(t, earlier, "") }},
		{"earlier file removed", func() { os.Remove(earlier) }},
		{"profile.d entry edited", func() { write(t, filepath.Join(d, "a.sh"), "export B=22\n") }},
		{"profile.d entry added", func() { write(t, filepath.Join(d, "b.sh"), "") }},
		{"profile.d entry removed", func() { os.Remove(filepath.Join(d, "b.sh")) }},
	}
	prev := StampOf(files)
	if StampOf(files) != prev {
		t.Fatal("the stamp of unchanged files changed")
	}
	for _, s := range steps {
		// Timestamps have a clock tick's resolution on some file systems.
		time.Sleep(10 * time.Millisecond)
		s.change()
		now := StampOf(files)
		if now == prev {
			t.Errorf("%s: stamp unchanged", s.name)
		}
		prev = now
	}
}
