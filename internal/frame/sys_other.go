//go:build !linux

package frame

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Without SOCK_CLOEXEC and MSG_CMSG_CLOEXEC the flag is set after the fact.
// Socketpair does it under syscall.ForkLock like the standard library; for
// received fds that lock cannot be held across a blocking recvmsg, so there
// is a short window in which a concurrent fork could inherit them. Only the
// framing is portable: the escalate server side is Linux-only.

const (
	// RecvFlags: see above.
	RecvFlags = 0
	// SendFlags: the Go runtime already turns SIGPIPE on sockets into EPIPE.
	SendFlags = 0
)

// Socketpair returns a close-on-exec AF_UNIX socketpair of type typ.
func Socketpair(typ int) ([2]int, error) {
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

// MarkReceived makes received descriptors close-on-exec.
func MarkReceived(fds []int) {
	for _, fd := range fds {
		unix.CloseOnExec(fd)
	}
}
