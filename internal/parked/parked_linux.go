package parked

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Exited returns once the child process pid has exited, leaving it
// unreaped: the caller's Wait (os/exec) then collects its status at once.
// pid must be a child that nothing else reaps meanwhile, so that the
// number cannot name another process. Without a pollable pidfd (Linux
// before 5.10) it returns an error at once and the caller's Wait blocks
// as it always did.
func Exited(pid int) error {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	// A pidfd is readable once its process has exited.
	return readable(f)
}

// Readable returns whether fd has data to read (or a hang-up or error to
// report) within timeout, false when the time passes first. fd must be a
// descriptor this process alone uses (the server's end of a socket pair
// it made): it is switched to non-blocking for the wait, which is what
// lets the netpoller watch it, and back to blocking after.
func Readable(fd int, timeout time.Duration) (bool, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return false, fmt.Errorf("set fd %d non-blocking: %w", fd, err)
	}
	defer unix.SetNonblock(fd, false)
	// A copy, so that closing the netpoller's File leaves fd open.
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return false, fmt.Errorf("dup fd %d: %w", fd, err)
	}
	f := os.NewFile(uintptr(dup), "parked")
	defer f.Close()
	if err := f.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return false, fmt.Errorf("fd %d: %w", fd, err)
	}
	err = readable(f)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return false, nil
	}
	return err == nil, err
}

// readable parks until f is readable (or poll fails), checking each time
// the netpoller says it may have become so.
func readable(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		var ok bool
		ok, rerr = pollIn(int(fd))
		return ok || rerr != nil
	})
	if err != nil {
		return err
	}
	return rerr
}

// pollIn reports whether fd is readable now (or has a hang-up or error to
// report), without waiting.
func pollIn(fd int) (bool, error) {
	for {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 0)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return false, fmt.Errorf("poll: %w", err)
		}
		return n > 0, nil
	}
}
