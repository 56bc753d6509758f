package escalate

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

// ErrClosed is returned by ReadFrame when the peer closed the stream cleanly
// between frames.
var ErrClosed = errors.New("escalate: connection closed by peer")

var errEOFInPayload = errors.New("escalate: connection closed inside a frame")

// FrameTooLargeError is a frame announcing more than MaxPayload bytes.
type FrameTooLargeError struct{ Size uint32 }

func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("escalate: frame announces %d bytes, over the %d-byte limit", e.Size, MaxPayload)
}

// msgIO is a socket the frame code can send on and receive from. blockingFd
// is a plain descriptor (the wrapper's side); the server uses a variant that
// waits in the Go netpoller so it can be cancelled.
type msgIO interface {
	recvmsg(p, oob []byte, flags int) (n, oobn, recvflags int, err error)
	sendmsg(p, oob []byte, flags int) (n int, err error)
}

// blockingFd does plain blocking syscalls on a descriptor.
type blockingFd int

func (fd blockingFd) recvmsg(p, oob []byte, flags int) (int, int, int, error) {
	n, oobn, rflags, _, err := unix.Recvmsg(int(fd), p, oob, flags)
	return n, oobn, rflags, err
}

func (fd blockingFd) sendmsg(p, oob []byte, flags int) (int, error) {
	return unix.SendmsgN(int(fd), p, oob, nil, flags)
}

// WriteFrame sends one frame on the stream socket fd: a 4-byte little-endian
// length, then payload. fds, if any, travel in SCM_RIGHTS with the first
// bytes, which is where ReadFrame looks for them.
func WriteFrame(fd int, payload []byte, fds []int) error {
	return writeFrame(blockingFd(fd), payload, fds)
}

func writeFrame(c msgIO, payload []byte, fds []int) error {
	if len(payload) > MaxPayload {
		return fmt.Errorf("escalate: frame payload of %d bytes exceeds the %d-byte limit", len(payload), MaxPayload)
	}
	if len(fds) > MaxFds {
		return fmt.Errorf("escalate: %d fds exceed the limit of %d per frame", len(fds), MaxFds)
	}
	buf := make([]byte, headerLen+len(payload))
	binary.LittleEndian.PutUint32(buf, uint32(len(payload)))
	copy(buf[headerLen:], payload)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	for len(buf) > 0 {
		n, err := c.sendmsg(buf, oob, sendFlags)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("escalate: send frame: %w", err)
		}
		buf = buf[n:]
		oob = nil // the rights went with the first bytes
	}
	return nil
}

// ReadFrame reads one frame from the stream socket fd. Received descriptors
// are close-on-exec; the caller owns them. On error, any descriptors that
// arrived are closed.
func ReadFrame(fd int) (payload []byte, fds []int, err error) {
	return readFrame(blockingFd(fd))
}

func readFrame(c msgIO) (payload []byte, fds []int, err error) {
	return readFrameReserving(c, nil)
}

// A reserver accounts for the memory of frames being received.
type reserver interface {
	takeBytes(n int) error
	giveBytes(n int)
}

// readFrameReserving is readFrame that, when r is set, takes the announced
// payload size from r before allocating it; if r refuses, the read ends
// with r's error (the payload is not consumed). On success the caller gives
// len(payload) back once the payload is no longer needed; on failure it is
// given back here.
func readFrameReserving(c msgIO, r reserver) (payload []byte, fds []int, err error) {
	var hdr [headerLen]byte
	fds, err = readFull(c, hdr[:], true)
	if err != nil {
		return nil, nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n > MaxPayload {
		closeAll(fds)
		return nil, nil, &FrameTooLargeError{Size: n}
	}
	if r != nil {
		if err := r.takeBytes(int(n)); err != nil {
			closeAll(fds)
			return nil, nil, err
		}
	}
	payload = make([]byte, n)
	if _, err := readFull(c, payload, false); err != nil {
		closeAll(fds)
		if r != nil {
			r.giveBytes(int(n))
		}
		if err == errEOFInPayload {
			err = fmt.Errorf("escalate: connection closed inside a %d-byte frame", n)
		}
		return nil, nil, err
	}
	return payload, fds, nil
}

// readFull fills buf from fd. Descriptors are accepted only on the first
// read of a frame header (first is true); anywhere else they are a protocol
// error.
func readFull(c msgIO, buf []byte, first bool) ([]int, error) {
	var fds []int
	oob := make([]byte, unix.CmsgSpace(MaxFds*4))
	got := 0
	for got < len(buf) {
		n, oobn, flags, err := c.recvmsg(buf[got:], oob, recvFlags)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			closeAll(fds)
			return nil, fmt.Errorf("escalate: receive frame: %w", err)
		}
		if oobn > 0 {
			received, perr := parseRights(oob[:oobn])
			markReceived(received)
			if perr != nil || flags&unix.MSG_CTRUNC != 0 || !(first && got == 0) {
				closeAll(fds)
				closeAll(received)
				switch {
				case perr != nil:
					return nil, perr
				case flags&unix.MSG_CTRUNC != 0:
					return nil, fmt.Errorf("escalate: more than %d fds sent with one frame", MaxFds)
				default:
					return nil, fmt.Errorf("escalate: fds sent in the middle of a frame")
				}
			}
			fds = received
		}
		if n == 0 {
			closeAll(fds)
			switch {
			case !first:
				return nil, errEOFInPayload
			case got == 0:
				return nil, ErrClosed
			}
			return nil, fmt.Errorf("escalate: connection closed inside a frame header")
		}
		got += n
	}
	return fds, nil
}

func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("escalate: malformed control message: %w", err)
	}
	var fds []int
	var bad error
	for i := range msgs {
		rights, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			bad = fmt.Errorf("escalate: unexpected control message (level %d, type %d)", msgs[i].Header.Level, msgs[i].Header.Type)
			continue
		}
		fds = append(fds, rights...)
	}
	if bad != nil {
		closeAll(fds)
		return nil, bad
	}
	return fds, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
