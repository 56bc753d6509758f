//go:build unix

package server

import (
	"os"

	"golang.org/x/sys/unix"
)

// pollableStdin is the server's stdin (fd 0) as a file that the Go
// runtime waits on in its netpoller, and a func that puts fd 0 back in
// blocking mode; see pollable.
func pollableStdin() (*os.File, func()) {
	if f, restore, ok := pollable(0, "/dev/stdin"); ok {
		return f, restore
	}
	return os.Stdin, func() {}
}

// pollable returns a non-blocking duplicate of fd, which the Go runtime
// then reads parked in its netpoller, when fd is a pipe or a socket (what
// an MCP client gives a server), and a func that makes fd blocking again.
// Read from a blocking fd, every wait for the next request holds a thread
// in read(2), which the runtime's monitor must take the processor from,
// and each request that arrives wakes that thread and hands the processor
// back to it. Measured side by side (sidebyside -vs-execgate, 3 rounds,
// December 2026), parked reads made trivial calls 0.96x the latency and
// 0.97x the CPU, and 8 clients 1.02x the throughput. A terminal or a file
// stays as it is (ok false): O_NONBLOCK belongs to the open file
// description, which a terminal shares with the shell that started us.
func pollable(fd int, name string) (f *os.File, restore func(), ok bool) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, nil, false
	}
	if kind := st.Mode & unix.S_IFMT; kind != unix.S_IFIFO && kind != unix.S_IFSOCK {
		return nil, nil, false
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return nil, nil, false
	}
	if err := unix.SetNonblock(dup, true); err != nil {
		unix.Close(dup)
		return nil, nil, false
	}
	// The duplicate shares fd's description, so fd is non-blocking too
	// until restore; nothing else here reads it.
	return os.NewFile(uintptr(dup), name), func() { _ = unix.SetNonblock(fd, false) }, true
}
