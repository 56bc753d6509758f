package server

import (
	"io"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// protocolInput is what the server reads requests from: when f (stdin) is
// a pipe, a non-blocking descriptor of its own on the same pipe, which the
// Go netpoller watches; otherwise f itself.
//
// Why: read(2) on a blocking stdin holds an OS thread in a system call
// while the server waits for the next request, and while any thread is in
// a system call the Go runtime's monitor cannot sleep: it polls every
// 20 µs (see internal/parked). Opening /proc/self/fd/0 gives a new open
// file description of the pipe, so O_NONBLOCK is set on that one only: the
// client's end and whoever else shares the original descriptor (a parent
// shell) see no change. A socket (libuv clients) cannot be reopened that
// way, nor a terminal usefully: those are read as they are.
func protocolInput(f *os.File) io.ReadCloser {
	// Through Control, not Fd: Fd would switch a non-blocking stdin to
	// blocking, a change others sharing it would see.
	rc, err := f.SyscallConn()
	if err != nil {
		return f
	}
	fd := -1
	rc.Control(func(orig uintptr) {
		var st unix.Stat_t
		if unix.Fstat(int(orig), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
			return
		}
		fd, err = unix.Open("/proc/self/fd/"+strconv.Itoa(int(orig)), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			fd = -1
		}
	})
	if fd < 0 {
		return f
	}
	return &reopened{File: os.NewFile(uintptr(fd), f.Name()), orig: f}
}

// reopened is the pollable description of a pipe; closing it closes the
// original too, as closing the original alone did before.
type reopened struct {
	*os.File
	orig *os.File
}

func (r *reopened) Close() error {
	err := r.File.Close()
	if cerr := r.orig.Close(); err == nil {
		err = cerr
	}
	return err
}
