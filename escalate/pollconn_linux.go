package escalate

import (
	"context"
	"fmt"
	"os"
	"sync"
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
//
// An exec's stream starts outside the netpoller (newLazyConn): most execs
// are read, decided and answered while their bytes are already there, on
// the goroutine that accepted them, and joining the netpoller (and leaving
// it at close) would cost more system calls than the whole exchange. The
// first operation that would have to wait calls beforeWait, which hands the
// accepting of later execs to a new goroutine, and only then joins.
type pollConn struct {
	fd   int
	name string

	mu         sync.Mutex
	f          *os.File        // nil until the stream joins the netpoller
	rc         syscall.RawConn // f's
	stopped    bool            // stopReading was called, not undone
	beforeWait func()          // run once, before the first wait
}

// newPollConn takes ownership of fd, parked in the netpoller at once; on
// error fd is closed.
func newPollConn(fd int, name string) (*pollConn, error) {
	c := &pollConn{fd: fd, name: name}
	if err := c.join(); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return c, nil
}

// newLazyConn takes ownership of fd, joining the netpoller only when an
// operation must wait, after calling beforeWait (if not nil).
func newLazyConn(fd int, name string, beforeWait func()) *pollConn {
	return &pollConn{fd: fd, name: name, beforeWait: beforeWait}
}

// join parks the socket in the netpoller. c.mu must not be held.
func (c *pollConn) join() error {
	if err := unix.SetNonblock(c.fd, true); err != nil {
		return fmt.Errorf("escalate: set %s non-blocking: %w", c.name, err)
	}
	f := os.NewFile(uintptr(c.fd), c.name)
	rc, err := f.SyscallConn()
	if err != nil {
		// The descriptor stays ours: f must not close it.
		return fmt.Errorf("escalate: %s: %w", c.name, err)
	}
	c.mu.Lock()
	c.f, c.rc = f, rc
	if c.stopped {
		f.SetReadDeadline(time.Unix(1, 0))
	}
	c.mu.Unlock()
	return nil
}

// polled returns the netpoller's handle, joining first (and handing off
// accepting) if the socket is not parked yet.
func (c *pollConn) polled() (syscall.RawConn, error) {
	c.mu.Lock()
	rc := c.rc
	hook := c.beforeWait
	c.beforeWait = nil
	c.mu.Unlock()
	if rc != nil {
		return rc, nil
	}
	if hook != nil {
		hook()
	}
	if err := c.join(); err != nil {
		return nil, err
	}
	return c.rc, nil
}

// detach joins the netpoller now (handing off accepting, see newLazyConn),
// ahead of work that is known to be slow. A failure to join shows at the
// next operation.
func (c *pollConn) detach() {
	c.polled()
}

// direct reports whether the socket is still outside the netpoller, and
// whether reading has been stopped.
func (c *pollConn) direct() (direct, stopped bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rc == nil, c.stopped
}

// Recvmsg implements frame.Conn.
func (c *pollConn) Recvmsg(p, oob []byte, flags int) (n, oobn, rflags int, err error) {
	n, oobn, rflags, err, perr := c.recv(p, oob, flags)
	if perr != nil {
		return 0, 0, 0, perr
	}
	return n, oobn, rflags, err
}

// recv is Recvmsg, with the netpoller's own errors (a deadline passed,
// the socket closed meanwhile) apart from the system call's.
func (c *pollConn) recv(p, oob []byte, flags int) (n, oobn, rflags int, err, perr error) {
	if direct, stopped := c.direct(); direct {
		if stopped {
			return 0, 0, 0, nil, os.ErrDeadlineExceeded
		}
		n, oobn, rflags, _, err = unix.Recvmsg(c.fd, p, oob, flags|unix.MSG_DONTWAIT)
		if err != unix.EAGAIN {
			return n, oobn, rflags, err, nil
		}
	}
	rc, perr := c.polled()
	if perr != nil {
		return 0, 0, 0, nil, perr
	}
	perr = rc.Read(func(fd uintptr) bool {
		n, oobn, rflags, _, err = unix.Recvmsg(int(fd), p, oob, flags|unix.MSG_DONTWAIT)
		return err != unix.EAGAIN
	})
	return n, oobn, rflags, err, perr
}

// Sendmsg implements frame.Conn.
func (c *pollConn) Sendmsg(p, oob []byte, flags int) (n int, err error) {
	if direct, _ := c.direct(); direct {
		n, err = unix.SendmsgN(c.fd, p, oob, nil, flags|unix.MSG_DONTWAIT)
		if err != unix.EAGAIN {
			return n, err
		}
	}
	rc, err := c.polled()
	if err != nil {
		return 0, err
	}
	werr := rc.Write(func(fd uintptr) bool {
		n, err = unix.SendmsgN(int(fd), p, oob, nil, flags|unix.MSG_DONTWAIT)
		return err != unix.EAGAIN
	})
	if werr != nil {
		return 0, werr
	}
	return n, err
}

// control runs fn on the descriptor, through the netpoller's handle once
// the socket is parked there (which keeps it from being closed meanwhile).
func (c *pollConn) control(fn func(fd int)) {
	c.mu.Lock()
	rc := c.rc
	c.mu.Unlock()
	if rc == nil {
		fn(c.fd)
		return
	}
	_ = rc.Control(func(fd uintptr) { fn(int(fd)) })
}

// peerPid is the pid of the process that made the peer's end (for a
// socketpair, its creator), 0 if unknown.
func (c *pollConn) peerPid() int {
	var pid int
	c.control(func(fd int) {
		if cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
			pid = int(cred.Pid)
		}
	})
	return pid
}

// stopReading makes the pending and every later read fail at once, while
// writes keep working (so a final answer can still be sent).
func (c *pollConn) stopReading() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	if c.f != nil {
		c.f.SetReadDeadline(time.Unix(1, 0))
	}
}

// readUntil makes reads fail once t has passed (the socket joins the
// netpoller, where deadlines live).
func (c *pollConn) readUntil(t time.Time) error {
	if _, err := c.polled(); err != nil {
		return err
	}
	return c.f.SetReadDeadline(t)
}

func (c *pollConn) Close() error {
	c.mu.Lock()
	f := c.f
	c.mu.Unlock()
	if f != nil {
		return f.Close()
	}
	return unix.Close(c.fd)
}

// hungUp reports whether the peer has closed every copy of its end.
func (c *pollConn) hungUp() bool {
	hup := false
	c.control(func(fd int) {
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
	c.mu.Lock()
	c.stopped = false
	if c.f != nil {
		c.f.SetReadDeadline(time.Time{})
	}
	c.mu.Unlock()
	if ctx.Err() != nil {
		c.stopReading()
	}
}

// waitHangup blocks until the peer closes its end (true) or sends data or
// reading is stopped (false). It only peeks, so nothing is consumed.
func (c *pollConn) waitHangup() bool {
	var b [1]byte
	n, _, _, err, perr := c.recv(b[:], nil, unix.MSG_PEEK)
	if perr != nil {
		return false
	}
	return err != nil || n == 0
}

// shutdownWrite ends the writing half: the peer reads end of file, while
// this side can still read what the peer sends.
func (c *pollConn) shutdownWrite() error {
	var serr error
	c.control(func(fd int) { serr = unix.Shutdown(fd, unix.SHUT_WR) })
	return serr
}
