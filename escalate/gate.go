package escalate

import (
	"fmt"
	"os"

	"github.com/execgate/execgate/internal/frame"
	"golang.org/x/sys/unix"
)

// The gate announcement: before a sandbox helper runs anything of the call,
// it sends one datagram on the session's socket saying whether the kernel
// also checks the call's program starts (a seccomp user-notification
// listener, see sandbox/gate_linux.go). A session with Options.OnGate takes
// that announcement only as the first datagram on its socket: the helper
// sends it before the shell exists, so nothing sandboxed can send a first
// datagram, and a gate datagram arriving later is an invalid handshake.
// Codex's wrappers never send one (they send handshakeByte only).

const (
	// gateByte carries the listener fd in SCM_RIGHTS.
	gateByte = 0x01
	// noGateByte is followed by why there is no gate, as text.
	noGateByte = 0x02
	// maxGateWhy bounds the text of a noGateByte datagram.
	maxGateWhy = 1024
)

// Gate is what the helper announced: the listener of the kernel gate, or
// why there is none.
type Gate struct {
	// Listener is the seccomp notification fd (close-on-exec, owned by
	// the receiver), nil when the call has no gate.
	Listener *os.File
	// Why says why there is no gate ("" with a Listener).
	Why string
}

// AnnounceGate sends the listener of the call's kernel gate on the
// session socket sock.
func AnnounceGate(sock, listener int) error {
	return sendRetrying(sock, []byte{gateByte}, unix.UnixRights(listener))
}

// AnnounceNoGate tells the session that the call has no kernel gate, and why.
func AnnounceNoGate(sock int, why string) error {
	if len(why) > maxGateWhy {
		why = why[:maxGateWhy]
	}
	return sendRetrying(sock, append([]byte{noGateByte}, why...), nil)
}

func sendRetrying(sock int, p, oob []byte) error {
	for {
		err := unix.Sendmsg(sock, p, oob, nil, frame.SendFlags)
		if err != unix.EINTR {
			if err != nil {
				return fmt.Errorf("escalate: announce the kernel gate on fd %d: %w", sock, err)
			}
			return nil
		}
	}
}

// receiveGate reads the session's first datagram if it is a gate
// announcement, and reports whether it was. Anything else is left for
// receiveHandshake.
func receiveGate(c frame.Conn) (Gate, bool, error) {
	var peek [1]byte
	var (
		n   int
		err error
	)
	for {
		n, _, _, err = c.Recvmsg(peek[:], nil, unix.MSG_PEEK)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return Gate{}, false, err
	}
	if n != 1 || peek[0] != gateByte && peek[0] != noGateByte {
		return Gate{}, false, nil
	}
	buf := make([]byte, 1+maxGateWhy+1)
	oob := make([]byte, unix.CmsgSpace(frame.MaxFds*4))
	var oobn, flags int
	for {
		n, oobn, flags, err = c.Recvmsg(buf, oob, frame.RecvFlags)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return Gate{}, false, err
	}
	var fds []int
	if oobn > 0 {
		if fds, err = frame.ParseRights(oob[:oobn]); err != nil {
			return Gate{}, true, err
		}
		frame.MarkReceived(fds)
	}
	switch {
	case flags&(unix.MSG_CTRUNC|unix.MSG_TRUNC) != 0:
		frame.CloseAll(fds)
		return Gate{}, true, fmt.Errorf("escalate: gate announcement truncated")
	case buf[0] == gateByte && len(fds) == 1 && n == 1:
		return Gate{Listener: os.NewFile(uintptr(fds[0]), "seccomp-listener")}, true, nil
	case buf[0] == noGateByte && len(fds) == 0:
		return Gate{Why: string(buf[1:n])}, true, nil
	}
	frame.CloseAll(fds)
	return Gate{}, true, fmt.Errorf("escalate: malformed gate announcement (%d bytes, %d fds)", n, len(fds))
}
