package repotrust

import (
	"fmt"
	"path/filepath"
	"testing"
)

// TestHasGitlinks reads index files the real git wrote, in every format,
// with and without a submodule entry.
func TestHasGitlinks(t *testing.T) {
	requireGit(t)
	for _, format := range []string{"sha1", "sha256"} {
		for _, version := range []string{"2", "3", "4"} {
			for _, gitlink := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/v%s/gitlink=%v", format, version, gitlink), func(t *testing.T) {
					dir := tempDir(t)
					runGit(t, dir, dir, "init", "-q", "--object-format="+format)
					// Names of several lengths, so that the padding varies.
					for _, name := range []string{"a", "bb", "ccc/dddd", "eeeeeeeeeeeeeeeeeeeeeeee"} {
						writeFile(t, filepath.Join(dir, name), name)
					}
					runGit(t, dir, dir, "add", ".")
					if version == "3" {
						// An intent-to-add entry has extended flags.
						writeFile(t, filepath.Join(dir, "ita"), "x")
						runGit(t, dir, dir, "add", "-N", "ita")
					}
					if gitlink {
						oid := runGit(t, dir, dir, "hash-object", "a")
						runGit(t, dir, dir, "update-index", "--add", "--cacheinfo", "160000,"+oid+",zz/sub")
					}
					runGit(t, dir, dir, "update-index", "--index-version", version)
					hashLen := 20
					if format == "sha256" {
						hashLen = 32
					}
					r := NewRegistry(DefaultPrograms(), nil)
					got, err := r.view().hasGitlinks(filepath.Join(dir, ".git", "index"), hashLen)
					if err != nil {
						t.Fatal(err)
					}
					if got != gitlink {
						t.Errorf("hasGitlinks = %v, want %v", got, gitlink)
					}
				})
			}
		}
	}
}

func TestHasGitlinksMissingAndBroken(t *testing.T) {
	dir := tempDir(t)
	r := NewRegistry(DefaultPrograms(), nil)
	if got, err := r.view().hasGitlinks(filepath.Join(dir, "index"), 20); got || err != nil {
		t.Errorf("missing index: %v, %v", got, err)
	}
	writeFile(t, filepath.Join(dir, "index"), "DIRC\x00\x00\x00\x02\x00\x00\x00\x05short")
	if _, err := r.view().hasGitlinks(filepath.Join(dir, "index"), 20); err == nil {
		t.Error("truncated index: no error")
	}
	writeFile(t, filepath.Join(dir, "index2"), "NOPE\x00\x00\x00\x02\x00\x00\x00\x00")
	if _, err := r.view().hasGitlinks(filepath.Join(dir, "index2"), 20); err == nil {
		t.Error("not an index: no error")
	}
}
