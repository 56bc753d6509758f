package frame

import "golang.org/x/sys/unix"

// On Linux every descriptor the protocol creates or receives is
// close-on-exec from birth, so a concurrent fork elsewhere in the process can
// never inherit it.

const (
	// RecvFlags makes received SCM_RIGHTS descriptors close-on-exec atomically.
	RecvFlags = unix.MSG_CMSG_CLOEXEC
	// SendFlags turns a write to a closed peer into EPIPE instead of SIGPIPE.
	SendFlags = unix.MSG_NOSIGNAL
)

// Socketpair returns a close-on-exec AF_UNIX socketpair of type typ.
func Socketpair(typ int) ([2]int, error) {
	return unix.Socketpair(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0)
}

// MarkReceived is a no-op: RecvFlags already made the fds close-on-exec.
func MarkReceived([]int) {}
