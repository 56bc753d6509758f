package sandbox

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRoots(t *testing.T) {
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ws, extra, tmpd := base+"/ws", base+"/extra", base+"/tmpdir"
	for _, d := range []string{ws, extra, tmpd} {
		mustMkdir(t, d)
	}
	link := base + "/link"
	if err := os.Symlink(ws, link); err != nil {
		t.Fatal(err)
	}
	slashTmp, err := filepath.EvalSymlinks("/tmp")
	if err != nil {
		t.Fatal(err)
	}
	paths := func(rs []Root) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Path)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		spec Spec
		want []string
	}{
		{"read-only has none", Spec{Policy: Policy{Mode: ReadOnly}, Workspace: ws}, nil},
		{"danger has none", Spec{Policy: Policy{Mode: DangerFullAccess}, Workspace: ws}, nil},
		{"workspace and /tmp", Spec{Policy: Policy{Mode: WorkspaceWrite}, Workspace: ws}, []string{ws, slashTmp}},
		{"configured first, then TMPDIR", Spec{Policy: Policy{Mode: WorkspaceWrite, WritableRoots: []string{extra}}, Workspace: ws, TmpDir: tmpd},
			[]string{extra, ws, slashTmp, tmpd}},
		{"exclusions", Spec{Policy: Policy{Mode: WorkspaceWrite, ExcludeSlashTmp: true, ExcludeTmpdirEnvVar: true}, Workspace: ws, TmpDir: tmpd},
			[]string{ws}},
		{"symlinks resolved, duplicates dropped", Spec{Policy: Policy{Mode: WorkspaceWrite, WritableRoots: []string{link}, ExcludeSlashTmp: true}, Workspace: ws},
			[]string{ws}},
		{"unusable TMPDIR left out", Spec{Policy: Policy{Mode: WorkspaceWrite, ExcludeSlashTmp: true}, Workspace: ws, TmpDir: base + "/missing"},
			[]string{ws}},
	} {
		got, err := tc.spec.Roots()
		if err != nil || !reflect.DeepEqual(paths(got), tc.want) {
			t.Errorf("%s: got %v, %v; want %v", tc.name, paths(got), err, tc.want)
		}
	}
	// A workspace reached through a symlink inside another writable root
	// (here: extra) could have been planted by an earlier call.
	planted := extra + "/ws-link"
	if err := os.Symlink(ws, planted); err != nil {
		t.Fatal(err)
	}
	_, err = Spec{Policy: Policy{Mode: WorkspaceWrite, WritableRoots: []string{extra}, ExcludeSlashTmp: true}, Workspace: planted}.Roots()
	if err == nil || !strings.Contains(err.Error(), "goes through symlink "+planted+" inside writable root "+extra) {
		t.Errorf("planted symlink: err = %v", err)
	}
	if _, err := (Spec{Policy: Policy{Mode: WorkspaceWrite}, Workspace: "relative"}).Roots(); err == nil ||
		!strings.Contains(err.Error(), `workspace "relative"`) {
		t.Errorf("relative workspace: err = %v", err)
	}
}

func TestProtectedPaths(t *testing.T) {
	root := t.TempDir()
	want := []string{root + "/.git", root + "/.codex", root + "/.agents"}
	if got := protectedPaths(root); !reflect.DeepEqual(got, want) {
		t.Errorf("no .git: got %v, want %v", got, want)
	}
	for _, tc := range []struct{ content, target string }{
		{"gitdir: ../main/.git/worktrees/wt\n", filepath.Join(filepath.Dir(root), "main/.git/worktrees/wt")},
		{"gitdir: /abs/modules/x", "/abs/modules/x"},
		{"gitdir:sub/gd", root + "/sub/gd"},
	} {
		mustWrite(t, root+"/.git", tc.content)
		got := protectedPaths(root)
		if !reflect.DeepEqual(got, append(want[:3:3], tc.target)) {
			t.Errorf("%q: got %v, want gitdir %s", tc.content, got, tc.target)
		}
	}
	mustWrite(t, root+"/.git", "not a pointer")
	if got := protectedPaths(root); !reflect.DeepEqual(got, want) {
		t.Errorf("bad .git file: got %v", got)
	}
}
