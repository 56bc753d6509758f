package resolve

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOpen(t *testing.T) {
	top, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(top, "outside") // not a writable root
	root := filepath.Join(top, "root")       // a writable root
	for _, d := range []string{outside + "/bin", root + "/sub"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tool := filepath.Join(outside, "bin", "tool")
	if err := os.WriteFile(tool, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		outside + "/rel":      "bin/tool",
		outside + "/abs":      tool,
		outside + "/dotdot":   "../outside/bin/tool",
		outside + "/bindir":   "bin",
		outside + "/chain":    "rel",
		outside + "/loop":     "loop",
		outside + "/toproc":   "/proc/self/root" + outside,
		outside + "/dangling": "nowhere",
		root + "/link":        tool,
		outside + "/via":      root + "/link", // outside, then through a link in the root
		outside + "/intoroot": root + "/sub",  // outside, into the root, no link there
		root + "/sub/dirlink": outside,
	}
	for link, target := range links {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	roots := []string{root}

	tests := []struct {
		path, want string
		typ        fs.FileMode
		why        string // a refusal or failure: part of the message
	}{
		{path: tool, want: tool},
		{path: outside + "/bin", want: outside + "/bin", typ: fs.ModeDir},
		{path: outside + "/bin/../bin/./tool", want: tool},
		{path: outside + "/rel", want: tool},
		{path: outside + "/abs", want: tool},
		{path: outside + "/dotdot", want: tool},
		{path: outside + "/chain", want: tool},
		{path: outside + "/bindir/tool", want: tool},
		{path: "/bin/sh", want: mustEval(t, "/bin/sh")},
		{path: outside + "/loop", why: "too many levels of symbolic links"},
		{path: outside + "/dangling", why: "no such file or directory"},
		{path: outside + "/missing", why: "no such file or directory"},
		{path: outside + "/toproc/bin/tool", why: "goes through /proc"},
		{path: "/proc/self/root" + tool, why: "goes through /proc"},
		{path: "/proc/self/cwd", why: "goes through /proc"},
		{path: "/proc", why: "goes through /proc"},
		{path: root + "/link", why: "symbolic link " + root + "/link inside the writable root " + root},
		{path: root + "/sub/dirlink/bin/tool", why: "inside the writable root"},
		{path: outside + "/via", why: "symbolic link " + root + "/link inside the writable root"},
		{path: outside + "/intoroot", want: root + "/sub", typ: fs.ModeDir},
		{path: "relative/tool", why: "not an absolute path"},
	}
	for _, tt := range tests {
		f, err := Open(tt.path, roots)
		if tt.why != "" {
			if err == nil {
				f.Close()
				t.Errorf("Open(%s) = %s, want an error with %q", tt.path, f.Path, tt.why)
				continue
			}
			var re *Error
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tt.why) || !strings.HasPrefix(err.Error(), tt.path+": ") {
				t.Errorf("Open(%s): %v, want a *resolve.Error naming the path, with %q", tt.path, err, tt.why)
			}
			continue
		}
		if err != nil {
			t.Errorf("Open(%s): %v", tt.path, err)
			continue
		}
		if f.Path != tt.want || f.Type != tt.typ {
			t.Errorf("Open(%s) = %s (type %v), want %s (type %v)", tt.path, f.Path, f.Type, tt.want, tt.typ)
		}
		assertSameFile(t, f, tt.want)
		f.Close()
	}
}

// TestWalkMatchesFastPath: the component walk (used when a path holds a
// link, or the kernel has no openat2) resolves link-free paths as the
// fast path does.
func TestWalkMatchesFastPath(t *testing.T) {
	for _, p := range []string{"/", "/usr", "/usr/bin/env", "/etc/hostname"} {
		f, err := walk(p, nil, false)
		if err != nil {
			t.Errorf("walk(%s): %v", p, err)
			continue
		}
		if f.Path != p {
			t.Errorf("walk(%s) = %s", p, f.Path)
		}
		assertSameFile(t, f, p)
		f.Close()
	}
	if _, err := walk("/proc/self/exe", nil, false); err == nil || !strings.Contains(err.Error(), "goes through /proc") {
		t.Errorf("walk(/proc/self/exe): %v, want a refusal", err)
	}
}

// assertSameFile checks that f's descriptor is the file at path.
func assertSameFile(t *testing.T, f *File, path string) {
	t.Helper()
	var a, b unix.Stat_t
	if err := unix.Fstat(f.Fd(), &a); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(path, &b); err != nil {
		t.Fatal(err)
	}
	if a.Dev != b.Dev || a.Ino != b.Ino {
		t.Errorf("descriptor of %s is not the file at %s", f.Path, path)
	}
}

func mustEval(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
