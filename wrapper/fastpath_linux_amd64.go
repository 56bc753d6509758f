package wrapper

import "syscall"

// The fast path's state: static because it runs before the Go runtime
// exists (no heap, no goroutine stack), written only by fastRun before the
// runtime starts and read only afterwards, so no synchronisation is needed.
// Sizes are mirrored in fastpath_linux_amd64.s.
var (
	fastState  uint64 // a handoverKind
	fastStream uint64 // the stream descriptor, when fastState is set
	fastErrno  uint64 // for handoverSendFailed, handoverExecFailed, handoverDialFailed

	fastReq       [128 << 10]byte // frame header + request JSON (reqSize)
	fastCwd       [4096]byte      // getcwd(2) (cwdSize)
	fastAnswer    [24]byte        // the peeked answer
	fastHandshake [8]byte         // the handshake datagram: one 0x00 byte
	fastIov       [2]uint64       // struct iovec
	fastMsg       [7]uint64       // struct msghdr
	fastCmsg      [3]uint64       // struct cmsghdr + one fd, padded: CMSG_SPACE(4)
	fastPair      [2]int32        // socketpair(2)'s result
)

// fastRun is the Run fast path, called by earlyEntry before the runtime
// starts; never from Go.
func fastRun()

// takeHandover reports what the fast path left to do.
func takeHandover() handover {
	if fastState == 0 {
		return handover{stream: -1}
	}
	return handover{kind: handoverKind(fastState), stream: int(fastStream), errno: syscall.Errno(fastErrno)}
}
