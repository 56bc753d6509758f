package escalate

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// pollConn is a socket only the server holds (its end of the datagram pair,
// its end of each exec's stream), so unlike the descriptors the sandbox
// shares it may be switched to non-blocking and parked in the Go netpoller:
// an idle peer then costs a goroutine, not an OS thread, and a read can be
// cancelled with a deadline. Every call also passes MSG_DONTWAIT, so a peer
// holding a duplicate that flips O_NONBLOCK back cannot make a read block.
type pollConn struct {
	f  *os.File
	rc syscall.RawConn
}

// newPollConn takes ownership of fd; on error fd is closed.
func newPollConn(fd int, name string) (*pollConn, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("escalate: set %s non-blocking: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), name)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("escalate: %s: %w", name, err)
	}
	return &pollConn{f: f, rc: rc}, nil
}

func (c *pollConn) Recvmsg(p, oob []byte, flags int) (n, oobn, rflags int, err error) {
	rerr := c.rc.Read(func(fd uintptr) bool {
		n, oobn, rflags, _, err = unix.Recvmsg(int(fd), p, oob, flags|unix.MSG_DONTWAIT)
		return err != unix.EAGAIN
	})
	if rerr != nil {
		return 0, 0, 0, rerr
	}
	return n, oobn, rflags, err
}

func (c *pollConn) Sendmsg(p, oob []byte, flags int) (n int, err error) {
	werr := c.rc.Write(func(fd uintptr) bool {
		n, err = unix.SendmsgN(int(fd), p, oob, nil, flags|unix.MSG_DONTWAIT)
		return err != unix.EAGAIN
	})
	if werr != nil {
		return 0, werr
	}
	return n, err
}

// peerPid is the pid of the process that made the peer's end (for a
// socketpair, its creator), 0 if unknown.
func (c *pollConn) peerPid() int {
	var pid int
	_ = c.rc.Control(func(fd uintptr) {
		if cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
			pid = int(cred.Pid)
		}
	})
	return pid
}

// stopReading makes the pending and every later read fail at once, while
// writes keep working (so a final answer can still be sent).
func (c *pollConn) stopReading() {
	c.f.SetReadDeadline(time.Unix(1, 0))
}

func (c *pollConn) Close() error { return c.f.Close() }

// hungUp reports whether the peer has closed every copy of its end.
func (c *pollConn) hungUp() bool {
	hup := false
	c.rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
		if n, err := unix.Poll(fds, 0); err == nil && n > 0 {
			hup = fds[0].Revents&(unix.POLLHUP|unix.POLLRDHUP) != 0
		}
	})
	return hup
}

// resumeReading undoes stopReading, unless ctx (whose end also stops
// reading) is already done.
func (c *pollConn) resumeReading(ctx context.Context) {
	c.f.SetReadDeadline(time.Time{})
	if ctx.Err() != nil {
		c.stopReading()
	}
}

// waitHangup blocks until the peer closes its end (true) or sends data or
// reading is stopped (false). It only peeks, so nothing is consumed.
func (c *pollConn) waitHangup() bool {
	var n int
	var err error
	rerr := c.rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, _, _, err = unix.Recvmsg(int(fd), b[:], nil, unix.MSG_PEEK|unix.MSG_DONTWAIT)
		return err != unix.EAGAIN
	})
	if rerr != nil {
		return false
	}
	return err != nil || n == 0
}

// shutdownWrite ends the writing half: the peer reads end of file, while
// this side can still read what the peer sends.
func (c *pollConn) shutdownWrite() error {
	var serr error
	if err := c.rc.Control(func(fd uintptr) { serr = unix.Shutdown(int(fd), unix.SHUT_WR) }); err != nil {
		return err
	}
	return serr
}
