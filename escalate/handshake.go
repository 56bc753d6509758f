package escalate

import (
	"fmt"

	"github.com/execgate/execgate/internal/frame"
	"golang.org/x/sys/unix"
)

// The handshake: the wrapper creates a stream socketpair and sends one end
// over the inherited datagram socket as a one-byte datagram (0x00) with the
// fd in SCM_RIGHTS. Each exec thus gets a private stream, so concurrent execs
// can never read each other's replies.

// handshakeByte is the payload of a handshake datagram.
const handshakeByte = 0x00

// Dial performs the wrapper's side of the handshake on the inherited
// datagram socket and returns the wrapper's end of a fresh stream socket.
func Dial(dgramFd int) (int, error) {
	return DialRequest(dgramFd, nil)
}

// preSendMax is the largest request DialRequest writes before the
// handshake: well under a fresh stream's buffer, so the write cannot block
// while nobody reads yet.
const preSendMax = 64 << 10

// DialRequest is Dial with the request frame (payload) sent too: before
// the handshake when it is small enough (the server then finds it whole
// and can answer at once), else after. A nil payload sends none.
func DialRequest(dgramFd int, payload []byte) (int, error) {
	pair, err := frame.Socketpair(unix.SOCK_STREAM)
	if err != nil {
		return -1, fmt.Errorf("escalate: socketpair: %w", err)
	}
	ours, theirs := pair[0], pair[1]
	fail := func(err error) (int, error) {
		unix.Close(ours)
		return -1, err
	}
	early := payload != nil && len(payload) <= preSendMax
	if early {
		if err := frame.Write(ours, payload, nil); err != nil {
			unix.Close(theirs)
			return fail(err)
		}
	}
	for {
		err = unix.Sendmsg(dgramFd, []byte{handshakeByte}, unix.UnixRights(theirs), nil, frame.SendFlags)
		if err != unix.EINTR {
			break
		}
	}
	unix.Close(theirs)
	if err != nil {
		return fail(fmt.Errorf("escalate: handshake on fd %d: %w", dgramFd, err))
	}
	if payload != nil && !early {
		if err := frame.Write(ours, payload, nil); err != nil {
			return fail(err)
		}
	}
	return ours, nil
}

// ReceiveHandshake reads one handshake datagram from the server's end of the
// datagram socket and returns the stream fd it carried (close-on-exec, owned
// by the caller). A malformed datagram yields an error and leaves nothing
// open; the caller may keep reading.
func ReceiveHandshake(dgramFd int) (int, error) {
	return receiveHandshake(frame.FD(dgramFd))
}

func receiveHandshake(c frame.Conn) (int, error) {
	// Room for one byte more than expected and more fds than expected, so
	// oversized or overloaded datagrams are detected rather than truncated
	// silently.
	var buf [2]byte
	oob := make([]byte, unix.CmsgSpace(frame.MaxFds*4))
	var (
		n, oobn, flags int
		err            error
	)
	for {
		n, oobn, flags, err = c.Recvmsg(buf[:], oob, frame.RecvFlags)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return -1, fmt.Errorf("escalate: receive handshake: %w", err)
	}
	var fds []int
	if oobn > 0 {
		fds, err = frame.ParseRights(oob[:oobn])
		if err != nil {
			return -1, err
		}
		frame.MarkReceived(fds)
	}
	switch {
	case flags&unix.MSG_CTRUNC != 0:
		err = fmt.Errorf("escalate: handshake carried more than %d fds", frame.MaxFds)
	case flags&unix.MSG_TRUNC != 0 || n != 1:
		err = fmt.Errorf("escalate: handshake datagram must be 1 byte, got %d", n)
	case buf[0] != handshakeByte:
		err = fmt.Errorf("escalate: handshake byte must be 0x00, got %#02x", buf[0])
	case len(fds) != 1:
		err = fmt.Errorf("escalate: handshake must carry exactly 1 fd, got %d", len(fds))
	}
	if err == nil {
		typ, gerr := unix.GetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_TYPE)
		switch {
		case gerr != nil:
			// %v, not %w: Serve would take this ENOTSOCK for its own
			// socket failing.
			err = fmt.Errorf("escalate: handshake fd is not a stream socket: %v", gerr)
		case typ != unix.SOCK_STREAM:
			err = fmt.Errorf("escalate: handshake fd is not a stream socket (socket type %d)", typ)
		}
	}
	if err != nil {
		frame.CloseAll(fds)
		return -1, err
	}
	return fds[0], nil
}
