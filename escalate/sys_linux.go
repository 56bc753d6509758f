package escalate

import "golang.org/x/sys/unix"

// On Linux every descriptor the protocol creates or receives is
// close-on-exec from birth, so a concurrent fork elsewhere in the process can
// never inherit it.

const (
	// recvFlags makes received SCM_RIGHTS descriptors close-on-exec atomically.
	recvFlags = unix.MSG_CMSG_CLOEXEC
	// sendFlags turns a write to a closed peer into EPIPE instead of SIGPIPE.
	sendFlags = unix.MSG_NOSIGNAL
)

// socketpair returns a close-on-exec AF_UNIX socketpair of type typ.
func socketpair(typ int) ([2]int, error) {
	return unix.Socketpair(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0)
}

// markReceived is a no-op: recvFlags already made the fds close-on-exec.
func markReceived([]int) {}
