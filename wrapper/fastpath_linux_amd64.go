package wrapper

import "syscall"

// The fast path's state: static because it runs before the Go runtime
// exists (no heap, no goroutine stack), written only by fastRun before the
// runtime starts and read only afterwards, so no synchronisation is needed.
// Sizes are mirrored in fastpath_linux_amd64.s.
var (
	fastState  uint64 // a handoverKind
	fastStream uint64 // the stream descriptor, when fastState is set
	fastErrno  uint64 // for the handover kinds that carry an errno

	fastReq       [128 << 10]byte // frame header + request JSON (reqSize)
	fastCwd       [4096]byte      // getcwd(2) (cwdSize)
	fastAnswer    [32]byte        // the peeked answer (the Escalate frame is 25 bytes)
	fastHandshake [8]byte         // the handshake datagram: one 0x00 byte
	fastIov       [2]uint64       // struct iovec
	fastMsg       [7]uint64       // struct msghdr
	fastCmsg      [4]uint64       // struct cmsghdr + up to three fds, padded: CMSG_SPACE(12)
	fastPair      [2]int32        // socketpair(2)'s result

	// The Escalate fast path's.
	fastOldMask uint64     // the signal mask before the forwarded signals were blocked
	fastSigfd   uint64     // the signalfd for the forwarded signals
	fastSigset  uint64     // one signal for rt_sigprocmask (dieBySignal's unblock)
	fastPoll    [2]uint64  // struct pollfd for the stream and the signalfd
	fastSiginfo [16]uint64 // struct signalfd_siginfo
	fastFwd     [32]byte   // a Forward frame
	fastResult  [128]byte  // the peeked SuperExecResult frame (resultPeek)
)

// fastRun is the Run and Escalate fast path, called by earlyEntry before the
// runtime starts; never from Go.
func fastRun()

// takeHandover reports what the fast path left to do.
func takeHandover() handover {
	if fastState == 0 {
		return handover{stream: -1}
	}
	return handover{kind: handoverKind(fastState), stream: int(fastStream), errno: syscall.Errno(fastErrno)}
}
