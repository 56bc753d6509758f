package policy

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestProjectRulesDirs(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	for _, f := range []string{
		"repo/.git/HEAD", "repo/.codex/rules/r.rules", "repo/a/.codex/config.toml", "repo/a/b/.codex/rules/b.rules",
		"other/.git/HEAD", "other/.codex/rules/o.rules",
		"norules/.git/HEAD", "norules/.codex/config.toml",
		"home/.codex/rules/default.rules",
	} {
		writeFile(t, filepath.Join(root, f), "")
	}
	if err := os.MkdirAll(filepath.Join(repo, "a/b/c"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A rules file where the directory belongs is listed: the load then
	// fails naming it, rather than the project's rules vanishing.
	writeFile(t, filepath.Join(root, "odd/.git/HEAD"), "")
	writeFile(t, filepath.Join(root, "odd/.codex/rules"), "")
	cfg := &Config{Projects: map[string]string{
		repo: "trusted", filepath.Join(root, "other"): "untrusted", filepath.Join(root, "norules"): "trusted",
		filepath.Join(root, "odd"): "trusted", filepath.Join(root, "home"): "trusted",
	}}
	src := Sources{Home: filepath.Join(root, "home/.codex"), Config: cfg}
	tests := []struct {
		name      string
		src       Sources
		cwd       string
		want      []string
		wantNotes []string // substrings, one per note
	}{
		{"project root down to cwd", src, filepath.Join(repo, "a/b/c"),
			[]string{repo + "/.codex/rules", repo + "/a/b/.codex/rules"}, nil},
		{"at the root", src, repo, []string{repo + "/.codex/rules"}, nil},
		{"a .codex without rules adds nothing", src, filepath.Join(root, "norules"), nil, nil},
		{"untrusted: none, with a note", src, filepath.Join(root, "other"),
			nil, []string{"ignoring rules in " + root + "/other/.codex/rules: project " + root + "/other is not trusted"}},
		{"unknown trust is untrusted", Sources{Config: &Config{}}, filepath.Join(repo, "a/b"),
			nil, []string{repo + "/.codex/rules", repo + "/a/b/.codex/rules"}},
		{"rules that are not a directory", src, filepath.Join(root, "odd"), []string{root + "/odd/.codex/rules"}, nil},
		{"the configuration home is not a project", src, filepath.Join(root, "home"), nil, nil},
		{"no markers: the root is cwd", Sources{Config: cfg, ProjectRootMarkers: []string{}}, filepath.Join(repo, "a/b"),
			nil, []string{repo + "/a/b/.codex/rules: project " + repo + "/a/b is not trusted"}},
		{"other markers: the walk stops at their root", Sources{Config: cfg, ProjectRootMarkers: []string{"b"}}, filepath.Join(repo, "a/b/c"),
			nil, []string{repo + "/a/b/.codex/rules: project " + repo + "/a is not trusted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dirs, notes := tt.src.ProjectRulesDirs(tt.cwd)
			if !slices.Equal(dirs, tt.want) {
				t.Errorf("dirs\n got %q\nwant %q", dirs, tt.want)
			}
			if len(notes) != len(tt.wantNotes) {
				t.Fatalf("notes %q, want %d", notes, len(tt.wantNotes))
			}
			for i, n := range notes {
				if !strings.Contains(n, tt.wantNotes[i]) {
					t.Errorf("note %q lacks %q", n, tt.wantNotes[i])
				}
			}
		})
	}
}

// Sources.Projects reads the given project rules directories between the
// home's and the extra files, and a broken one fails the listing.
func TestSourcesProjects(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"home/rules/h.rules", "p1/rules/b.rules", "p1/rules/a.rules", "p2/rules/c.rules"} {
		writeFile(t, filepath.Join(root, f), "")
	}
	src := Sources{SystemDir: "-", Home: filepath.Join(root, "home"), Extra: []string{"/x/extra.rules"},
		Projects: []string{filepath.Join(root, "p1/rules"), filepath.Join(root, "p2/rules"), filepath.Join(root, "gone/rules")}}
	files, err := src.List()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{root + "/home/rules/h.rules", root + "/p1/rules/a.rules", root + "/p1/rules/b.rules", root + "/p2/rules/c.rules", "/x/extra.rules"}
	if !slices.Equal(files, want) {
		t.Errorf("files\n got %q\nwant %q", files, want)
	}
	src.Projects = []string{filepath.Join(root, "p1/rules/a.rules")}
	if _, err := src.List(); err == nil || !strings.Contains(err.Error(), "failed to read rules files from "+root+"/p1/rules/a.rules") {
		t.Errorf("a file as rules directory: err = %v", err)
	}
}

// Stores sharing a home see each other's "always allow" at once, long
// before their next reload would read it.
func TestStoreAmended(t *testing.T) {
	root := t.TempDir()
	home := filepath.Join(root, "home")
	writeFile(t, filepath.Join(home, "rules/h.rules"), `prefix_rule(pattern=["ls"], decision="allow")`+"\n")
	writeFile(t, filepath.Join(root, "p/rules/p.rules"), `prefix_rule(pattern=["git", "push"], decision="forbidden")`+"\n")
	opts := StoreOptions{Home: home, CheckInterval: time.Hour}
	shared := Sources{SystemDir: "-", Home: home}
	project := shared
	project.Projects = []string{filepath.Join(root, "p/rules")}
	a, err := NewStore(context.Background(), shared.List, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewStore(context.Background(), project.List, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Amend([]string{"git", "push"}); err != nil {
		t.Fatal(err)
	}
	b.Amended([]string{"git", "push"})
	b.Amended(nil) // nothing to add
	tests := []struct {
		name        string
		store       *Store
		want        Decision
		wantMatches int
	}{
		{"the amending store", a, Allow, 1},
		{"another store", b, Forbidden, 2}, // the project's forbidden still outranks the new allow
	}
	for _, tt := range tests {
		p, err := tt.store.Policy(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ev := p.Check([]string{"git", "push"})
		if ev.Decision != tt.want || len(ev.MatchedRules) != tt.wantMatches {
			t.Errorf("%s: %+v, want %v", tt.name, ev, tt.want)
		}
	}
	// Without a home Amended adds nothing.
	c, err := NewStore(context.Background(), shared.List, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.Amended([]string{"cargo"})
	if p, _ := c.Policy(context.Background()); p.Check([]string{"cargo"}).Decision != None {
		t.Error("Amended without a home added a rule")
	}
}
