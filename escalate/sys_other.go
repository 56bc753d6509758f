//go:build !linux

package escalate

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Without SOCK_CLOEXEC and MSG_CMSG_CLOEXEC the flag is set after the fact.
// socketpair does it under syscall.ForkLock like the standard library; for
// received fds that lock cannot be held across a blocking recvmsg, so there
// is a short window in which a concurrent fork could inherit them. Only the
// protocol code is portable: the server side (Session) is Linux-only.

const (
	recvFlags = 0
	// The Go runtime already turns SIGPIPE on sockets into EPIPE.
	sendFlags = 0
)

func socketpair(typ int) ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	p, err := unix.Socketpair(unix.AF_UNIX, typ, 0)
	if err != nil {
		return p, err
	}
	unix.CloseOnExec(p[0])
	unix.CloseOnExec(p[1])
	return p, nil
}

func markReceived(fds []int) {
	for _, fd := range fds {
		unix.CloseOnExec(fd)
	}
}
