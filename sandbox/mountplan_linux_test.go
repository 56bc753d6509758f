package sandbox

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestResolveMounts: what the server decides for the helper's mounts (a
// wrong decision here is a mount the helper makes in the wrong place, or
// one it leaves out).
func TestResolveMounts(t *testing.T) {
	ws := t.TempDir()
	outside := t.TempDir()
	mustMkdir(t, ws+"/.git")
	mustMkdir(t, ws+"/a")
	mustMkdir(t, ws+"/secret/keep")
	mustWrite(t, ws+"/secret/file", "")
	mustWrite(t, ws+"/notes", "")
	id := func(p string) fileID {
		t.Helper()
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			t.Fatal(err)
		}
		return fileID{st.Dev, st.Ino}
	}
	roots := []Root{{Path: ws}}
	h := helperSpec{Roots: roots, Mounts: []mountOp{
		{Path: ws + "/.git", Kind: opReadOnly, create: true},
		{Path: ws + "/.codex", Kind: opReadOnly, create: true},
		{Path: ws + "/a/b/c", Kind: opReadOnly, create: true},
		{Path: ws + "/gone", Kind: opMask},
		{Path: outside + "/x/.codex", Kind: opReadOnly, create: true},
		{Path: ws + "/notes", Kind: opMask},
		{Path: ws + "/secret", Kind: opMask, Keep: []string{ws + "/secret/keep", ws + "/secret/file", ws + "/secret/missing"}},
		{Path: ws + "/secret/keep", Kind: opWritable},
		{Path: ws + "/secret/file", Kind: opReadOnly},
	}}
	if err := resolveMounts(&h); err != nil {
		t.Fatal(err)
	}
	want := []mountOp{
		{Path: ws + "/.git", Kind: opReadOnly, create: true, ID: id(ws + "/.git"), Dir: true},
		{Path: ws + "/.codex", Kind: opReadOnly, create: true, Dir: true, MakeIn: pathID{ws, id(ws)}, Make: []string{".codex"}},
		{Path: ws + "/a/b/c", Kind: opReadOnly, create: true, Dir: true, MakeIn: pathID{ws + "/a", id(ws + "/a")}, Make: []string{"b", "c"}},
		// gone: missing and not to be created; outside/x/.codex: no
		// writable root to create it in.
		{Path: ws + "/notes", Kind: opMask, ID: id(ws + "/notes")},
		{Path: ws + "/secret", Kind: opMask, Keep: []string{ws + "/secret/keep", ws + "/secret/file", ws + "/secret/missing"},
			ID: id(ws + "/secret"), Dir: true, KeepFile: []bool{false, true, false}},
		{Path: ws + "/secret/keep", Kind: opWritable, ID: id(ws + "/secret/keep"), Dir: true, InMask: 5},
		{Path: ws + "/secret/file", Kind: opReadOnly, ID: id(ws + "/secret/file"), InMask: 5},
	}
	if !reflect.DeepEqual(h.Mounts, want) {
		t.Errorf("resolved mounts:\n got %+v\nwant %+v", h.Mounts, want)
	}

	if err := os.Symlink(outside, ws+"/.agents"); err != nil {
		t.Fatal(err)
	}
	h = helperSpec{Roots: roots, Mounts: []mountOp{{Path: ws + "/.agents", Kind: opReadOnly, create: true}}}
	if err := resolveMounts(&h); err == nil || !strings.Contains(err.Error(), "protect "+ws+"/.agents: is a symlink") {
		t.Errorf("a symlinked protected name: %v, want an error naming it", err)
	}

	// A path that cannot be looked at: the error names the path.
	h = helperSpec{Roots: roots, Mounts: []mountOp{{Path: ws + "/notes/.git", Kind: opReadOnly, create: true}}}
	if err := resolveMounts(&h); err == nil || !strings.Contains(err.Error(), "lstat "+ws+"/notes/.git: not a directory") {
		t.Errorf("a protected name below a file: %v, want an error naming the path", err)
	}
}

// TestWritableMounts: what the helper keeps writable when it makes the
// rest read-only: the shallowest roots and the files outside them.
func TestWritableMounts(t *testing.T) {
	base := t.TempDir()
	for _, d := range []string{"a/b", "c"} {
		mustMkdir(t, filepath.Join(base, d))
	}
	mustWrite(t, base+"/a/in", "")
	mustWrite(t, base+"/out", "")
	pin := func(p string) (int, fileID) {
		t.Helper()
		fd, err := openPathNoSymlinks(p, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(fd) })
		id, err := identity(fd)
		if err != nil {
			t.Fatal(err)
		}
		return fd, id
	}
	fa, ia := pin(base + "/a")
	fb, _ := pin(base + "/a/b")
	fc, ic := pin(base + "/c")
	fin, _ := pin(base + "/a/in")
	fout, iout := pin(base + "/out")
	roots := []pinnedRoot{{Root{Path: base + "/a/b"}, fb}, {Root{Path: base + "/c"}, fc}, {Root{Path: base + "/a"}, fa}}
	files := []string{base + "/a/in", base + "/out", base + "/gone"}
	keep, all, err := writableMounts(roots, files, []int{fin, fout, -1})
	if err != nil {
		t.Fatal(err)
	}
	want := []pathID{{base + "/c", ic}, {base + "/a", ia}, {base + "/out", iout}}
	if all || !reflect.DeepEqual(keep, want) {
		t.Errorf("writableMounts = %v, %v; want %v, false", keep, all, want)
	}
	fs, _ := pin("/")
	if keep, all, err := writableMounts(append(roots, pinnedRoot{Root{Path: "/"}, fs}), nil, nil); err != nil || !all || keep != nil {
		t.Errorf("with / writable: %v, %v, %v; want everything writable", keep, all, err)
	}
}
