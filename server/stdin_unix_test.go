//go:build unix

package server

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPollableStdin: a pipe (what an MCP client gives) comes back as a
// non-blocking duplicate that reads as the pipe does, and is made blocking
// again on restore; a regular file is left as it is.
func TestPollableStdin(t *testing.T) {
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	f, restore, ok := pollable(p[0], "pipe")
	if !ok {
		t.Fatal("a pipe was not made pollable")
	}
	defer f.Close()
	if nb, err := nonblocking(p[0]); err != nil || !nb {
		t.Errorf("the pipe is not non-blocking: %v %v", nb, err)
	}
	go func() { _, _ = unix.Write(p[1], []byte("{}\n")); unix.Close(p[1]) }()
	if b, err := io.ReadAll(f); err != nil || string(b) != "{}\n" {
		t.Errorf("read %q, %v; want the line, then EOF", b, err)
	}
	restore()
	if nb, err := nonblocking(p[0]); err != nil || nb {
		t.Errorf("after restore the pipe is still non-blocking: %v %v", nb, err)
	}

	file := filepath.Join(t.TempDir(), "requests")
	if err := os.WriteFile(file, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, _, ok := pollable(int(r.Fd()), "file"); ok {
		t.Error("a regular file was made pollable")
	}
}

func nonblocking(fd int) (bool, error) {
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	return flags&unix.O_NONBLOCK != 0, err
}
