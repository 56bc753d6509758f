// Package frame is the framing both of execgate's descriptor-passing
// protocols use on a unix stream socket: a 4-byte little-endian length, then
// that many bytes of JSON, with file descriptors in SCM_RIGHTS on the first
// bytes. The escalate protocol (wrapper and in-shell client to server) and the
// sandbox's spare activation (server to a spare helper) speak it; what the
// JSON means is theirs.
//
// It works on raw descriptors with Sendmsg/Recvmsg rather than net.Conn: the
// escalate datagram socket is shared with every process of a sandboxed call,
// and net.FileConn would flip O_NONBLOCK on that shared description and call
// syscalls (getsockopt) the sandbox denies.
package frame

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

const (
	// MaxPayload bounds one frame's JSON so a hostile peer cannot make either
	// side allocate without limit. The largest frame is a request: argv and
	// environment, which an exec may fill up to ARG_MAX, 2 MiB with the
	// default 8 MiB stack limit (a quarter of it, fs/exec.c). Twice that
	// leaves room for JSON's quotes, separators and escapes around every
	// string. A shell whose stack limit was raised can exec more (up to 6
	// MiB); such an exec fails closed (126, "exceeds the limit") instead of
	// being decided.
	MaxPayload = 4 << 20
	// MaxFds bounds the descriptors accepted with one frame.
	MaxFds = 16

	headerLen = 4
)

// ErrClosed is returned by Read when the peer closed the stream cleanly
// between frames.
var ErrClosed = errors.New("frame: connection closed by peer")

var errEOFInPayload = errors.New("frame: connection closed inside a frame")

// TooLargeError is a frame announcing more than MaxPayload bytes.
type TooLargeError struct{ Size uint32 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("frame: %d bytes announced, over the %d-byte limit", e.Size, MaxPayload)
}

// Conn is a socket frames can be sent on and received from. FD is a plain
// descriptor (the wrapper's side, the spare helper); the escalate server uses
// a variant that waits in the Go netpoller so it can be cancelled.
type Conn interface {
	Recvmsg(p, oob []byte, flags int) (n, oobn, recvflags int, err error)
	Sendmsg(p, oob []byte, flags int) (n int, err error)
}

// FD does plain blocking syscalls on a descriptor.
type FD int

// Recvmsg is unix.Recvmsg on fd.
func (fd FD) Recvmsg(p, oob []byte, flags int) (int, int, int, error) {
	n, oobn, rflags, _, err := unix.Recvmsg(int(fd), p, oob, flags)
	return n, oobn, rflags, err
}

// Sendmsg is unix.SendmsgN on fd.
func (fd FD) Sendmsg(p, oob []byte, flags int) (int, error) {
	return unix.SendmsgN(int(fd), p, oob, nil, flags)
}

// Write sends one frame on the stream socket fd: a 4-byte little-endian
// length, then payload. fds, if any, travel in SCM_RIGHTS with the first
// bytes, which is where Read looks for them.
func Write(fd int, payload []byte, fds []int) error {
	return WriteConn(FD(fd), payload, fds)
}

// WriteConn is Write on a Conn.
func WriteConn(c Conn, payload []byte, fds []int) error {
	if len(payload) > MaxPayload {
		return fmt.Errorf("frame: frame payload of %d bytes exceeds the %d-byte limit", len(payload), MaxPayload)
	}
	if len(fds) > MaxFds {
		return fmt.Errorf("frame: %d fds exceed the limit of %d per frame", len(fds), MaxFds)
	}
	buf := make([]byte, headerLen+len(payload))
	binary.LittleEndian.PutUint32(buf, uint32(len(payload)))
	copy(buf[headerLen:], payload)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	for len(buf) > 0 {
		n, err := c.Sendmsg(buf, oob, SendFlags)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("frame: send frame: %w", err)
		}
		buf = buf[n:]
		oob = nil // the rights went with the first bytes
	}
	return nil
}

// Read reads one frame from the stream socket fd. Received descriptors are
// close-on-exec; the caller owns them. On error, any descriptors that arrived
// are closed.
func Read(fd int) (payload []byte, fds []int, err error) {
	return ReadConn(FD(fd), nil)
}

// A Reserver accounts for the memory of frames being received.
type Reserver interface {
	TakeBytes(n int) error
	GiveBytes(n int)
}

// ReadConn is Read on a Conn that, when r is set, takes the announced
// payload size from r before allocating it; if r refuses, the read ends with
// r's error (the payload is not consumed). On success the caller gives
// len(payload) back once the payload is no longer needed; on failure it is
// given back here.
func ReadConn(c Conn, r Reserver) (payload []byte, fds []int, err error) {
	var hdr [headerLen]byte
	fds, err = readFull(c, hdr[:], true)
	if err != nil {
		return nil, nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n > MaxPayload {
		CloseAll(fds)
		return nil, nil, &TooLargeError{Size: n}
	}
	if r != nil {
		if err := r.TakeBytes(int(n)); err != nil {
			CloseAll(fds)
			return nil, nil, err
		}
	}
	payload = make([]byte, n)
	if _, err := readFull(c, payload, false); err != nil {
		CloseAll(fds)
		if r != nil {
			r.GiveBytes(int(n))
		}
		if err == errEOFInPayload {
			err = fmt.Errorf("frame: connection closed inside a %d-byte frame", n)
		}
		return nil, nil, err
	}
	return payload, fds, nil
}

// readFull fills buf from fd. Descriptors are accepted only on the first
// read of a frame header (first is true); anywhere else they are a protocol
// error.
func readFull(c Conn, buf []byte, first bool) ([]int, error) {
	var fds []int
	oob := make([]byte, unix.CmsgSpace(MaxFds*4))
	got := 0
	for got < len(buf) {
		n, oobn, flags, err := c.Recvmsg(buf[got:], oob, RecvFlags)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			CloseAll(fds)
			return nil, fmt.Errorf("frame: receive frame: %w", err)
		}
		if oobn > 0 {
			received, perr := ParseRights(oob[:oobn])
			MarkReceived(received)
			if perr != nil || flags&unix.MSG_CTRUNC != 0 || !(first && got == 0) {
				CloseAll(fds)
				CloseAll(received)
				switch {
				case perr != nil:
					return nil, perr
				case flags&unix.MSG_CTRUNC != 0:
					return nil, fmt.Errorf("frame: more than %d fds sent with one frame", MaxFds)
				default:
					return nil, fmt.Errorf("frame: fds sent in the middle of a frame")
				}
			}
			fds = received
		}
		if n == 0 {
			CloseAll(fds)
			switch {
			case !first:
				return nil, errEOFInPayload
			case got == 0:
				return nil, ErrClosed
			}
			return nil, fmt.Errorf("frame: connection closed inside a frame header")
		}
		got += n
	}
	return fds, nil
}

// ParseRights returns the descriptors of the SCM_RIGHTS messages in oob. Any
// other control message is an error, and then every descriptor is closed.
func ParseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("frame: malformed control message: %w", err)
	}
	var fds []int
	var bad error
	for i := range msgs {
		rights, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			bad = fmt.Errorf("frame: unexpected control message (level %d, type %d)", msgs[i].Header.Level, msgs[i].Header.Type)
			continue
		}
		fds = append(fds, rights...)
	}
	if bad != nil {
		CloseAll(fds)
		return nil, bad
	}
	return fds, nil
}

// CloseAll closes fds, ignoring errors: it is for descriptors being dropped.
func CloseAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
