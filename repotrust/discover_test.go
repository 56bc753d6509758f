package repotrust

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDiscoverAgreesWithGit builds repository layouts and checks that
// discover finds the git directory and common directory the real git finds
// (git rev-parse), or fails where git does.
func TestDiscoverAgreesWithGit(t *testing.T) {
	requireGit(t)
	base := tempDir(t)
	home := filepath.Join(base, "home")
	mkdirs(t, home)
	repo := filepath.Join(base, "r")
	mkdirs(t, repo)
	runGit(t, home, repo, "init", "-q")
	runGit(t, home, repo, "commit", "-q", "--allow-empty", "-m", "x")
	mkdirs(t, filepath.Join(repo, "a", "b"), filepath.Join(repo, "p", ".git"))
	// An empty .git (the sandbox's placeholder) is passed over.
	// A gitfile, relative.
	writeFile(t, filepath.Join(base, "w", ".git"), "gitdir: ../r/.git\n")
	// A linked work tree.
	runGit(t, home, repo, "worktree", "add", "-q", filepath.Join(base, "wt"))
	// A bare repository.
	runGit(t, home, base, "init", "-q", "--bare", filepath.Join(base, "b.git"))
	// Broken gitfiles: git stops there.
	writeFile(t, filepath.Join(base, "bad", ".git"), "garbage\n")
	writeFile(t, filepath.Join(base, "nowhere", ".git"), "gitdir: /nonexistent/x\n")
	// A .git with objects and refs but an invalid HEAD is not a repository.
	mkdirs(t, filepath.Join(repo, "h", ".git", "objects"), filepath.Join(repo, "h", ".git", "refs"))
	writeFile(t, filepath.Join(repo, "h", ".git", "HEAD"), "garbage\n")
	// A symlinked HEAD pointing into refs/ is valid.
	sym := filepath.Join(base, "sym")
	mkdirs(t, filepath.Join(sym, ".git", "objects"), filepath.Join(sym, ".git", "refs"))
	if err := os.Symlink("refs/heads/main", filepath.Join(sym, ".git", "HEAD")); err != nil {
		t.Fatal(err)
	}
	mkdirs(t, filepath.Join(base, "none"))

	tests := []struct {
		name    string
		start   string
		env     []string
		looked  []string // nil: not compared
		wantErr bool
	}{
		{name: "top", start: repo, looked: []string{}},
		{name: "subdirectory", start: filepath.Join(repo, "a", "b"), looked: []string{filepath.Join(repo, "a", "b"), filepath.Join(repo, "a")}},
		{name: "empty .git passed over", start: filepath.Join(repo, "p"), looked: []string{filepath.Join(repo, "p")}},
		{name: "gitfile", start: filepath.Join(base, "w")},
		{name: "linked work tree", start: filepath.Join(base, "wt")},
		{name: "bare", start: filepath.Join(base, "b.git")},
		{name: "inside bare", start: filepath.Join(base, "b.git", "refs")},
		{name: "invalid HEAD passed over", start: filepath.Join(repo, "h")},
		{name: "symlinked HEAD", start: sym},
		{name: "ceiling", start: filepath.Join(repo, "a", "b"), env: []string{"GIT_CEILING_DIRECTORIES=" + repo},
			looked: []string{filepath.Join(repo, "a", "b"), filepath.Join(repo, "a")}},
		{name: "ceiling after empty entry kept verbatim", start: filepath.Join(repo, "a"), env: []string{"GIT_CEILING_DIRECTORIES=:" + repo + "/"}},
		{name: "no repository", start: filepath.Join(base, "none"), env: []string{"GIT_CEILING_DIRECTORIES=" + base}},
		{name: "invalid gitfile", start: filepath.Join(base, "bad"), wantErr: true},
		{name: "gitfile to nowhere", start: filepath.Join(base, "nowhere"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			genv, err := newGitEnv(envMap(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			d, err := NewRegistry(DefaultPrograms(), nil).view().discover(tt.start, genv)
			gitDir, gerr := tryGit(home, tt.start, tt.env, "rev-parse", "--absolute-git-dir")
			common, _ := tryGit(home, tt.start, tt.env, "rev-parse", "--path-format=absolute", "--git-common-dir")
			switch {
			case tt.wantErr:
				if err == nil {
					t.Errorf("discover: no error, found %+v; git says %q", d.repo, gitDir)
				}
				if gerr == nil {
					t.Errorf("git found %s where the test expects it to fail", gitDir)
				}
				return
			case err != nil:
				t.Fatalf("discover: %v (git: %q)", err, gitDir)
			case gerr != nil:
				if d.repo != nil {
					t.Errorf("discover found %+v; git finds none: %s", d.repo, gitDir)
				}
			case d.repo == nil:
				t.Errorf("discover found none; git finds %s", gitDir)
			default:
				if d.repo.gitDir != gitDir {
					t.Errorf("git dir %s, git says %s", d.repo.gitDir, gitDir)
				}
				if d.repo.commonDir != common {
					t.Errorf("common dir %s, git says %s", d.repo.commonDir, common)
				}
			}
			if tt.looked != nil && !slices.Equal(d.looked, tt.looked) && !(len(d.looked) == 0 && len(tt.looked) == 0) {
				t.Errorf("looked in %v, want %v", d.looked, tt.looked)
			}
		})
	}
}

func TestCeilingLen(t *testing.T) {
	tests := []struct {
		dir      string
		ceilings []string
		want     int
	}{
		{"/a/b", nil, -1},
		{"/a/b", []string{"/a"}, 2},
		{"/a/b", []string{"/a/b"}, -1}, // only proper ancestors
		{"/a/b", []string{"/"}, 0},
		{"/ab", []string{"/a"}, -1},
		{"/a/b/c", []string{"/a", "/a/b"}, 4},
		{"/", []string{"/"}, -1},
	}
	for _, tt := range tests {
		if got := ceilingLen(tt.dir, tt.ceilings); got != tt.want {
			t.Errorf("ceilingLen(%q, %q) = %d, want %d", tt.dir, tt.ceilings, got, tt.want)
		}
	}
}

func TestGitBool(t *testing.T) {
	for v, want := range map[string]bool{"": false, "true": true, "YES": true, "on": true, "1": true, "0": false, "off": false, "2": true} {
		if got, err := gitBool(v); err != nil || got != want {
			t.Errorf("gitBool(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	if _, err := gitBool("maybe"); err == nil || !strings.Contains(err.Error(), "maybe") {
		t.Errorf("gitBool(maybe): %v", err)
	}
}
