package wrapper

import "syscall"

// handover is how far the pre-runtime Run fast path (fastpath_linux_amd64.s)
// got before it left the rest to the Go code in Main.
type handover struct {
	kind   handoverKind
	stream int           // the private stream (-1 for handoverNone and handoverDialFailed)
	errno  syscall.Errno // for handoverSendFailed and handoverExecFailed
}

type handoverKind int

const (
	// handoverNone: nothing was sent (no fast path in this build, not the
	// wrapper role, or input the fast path does not encode): Main does
	// everything.
	handoverNone handoverKind = iota
	// handoverStream: the request went out on stream and the answer, unread,
	// is not the exact Run frame (or the read failed): Main reads it.
	handoverStream
	// handoverSendFailed: sending the request on stream failed with errno.
	handoverSendFailed
	// handoverExecFailed: the answer was Run, and execve failed with errno.
	handoverExecFailed
	// handoverDialFailed: sending the stream to the server failed with
	// errno; stream is -1.
	handoverDialFailed
)
