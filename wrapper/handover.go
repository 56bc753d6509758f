package wrapper

import "syscall"

// handover is how far the pre-runtime fast path (fastpath_linux_amd64.s)
// got before it left the rest to the Go code in Main.
type handover struct {
	kind   handoverKind
	stream int           // the private stream (-1 for handoverNone and handoverDialFailed)
	errno  syscall.Errno // for handoverSendFailed, handoverExecFailed, handoverDialFailed, handoverSuperExecFailed, handoverResultFailed
}

type handoverKind int

const (
	// handoverNone: nothing was sent (no fast path in this build, not the
	// wrapper role, or input the fast path does not encode): Main does
	// everything.
	handoverNone handoverKind = iota
	// handoverStream: the request went out on stream and the answer, unread,
	// is not the exact Run or Escalate frame (or the read failed, or the
	// Escalate path could not set up its signal catching): Main reads it.
	// The signal state is as inherited, except after an Escalate answer:
	// the signals the runtime drops may already be SIG_IGN (it installs
	// its own handler on them anyway), and if reading the Escalate frame
	// fell short after the peek (which cannot happen) the forwarded ones
	// are SIG_IGN too, as for the kinds below.
	handoverStream
	// handoverSendFailed: sending the request on stream failed with errno.
	handoverSendFailed
	// handoverExecFailed: the answer was Run, and execve failed with errno.
	handoverExecFailed
	// handoverDialFailed: sending the stream to the server failed with
	// errno; stream is -1.
	handoverDialFailed
	// The three below follow the exact Escalate answer, which the fast path
	// consumed. It had blocked the forwarded signals and caught them with
	// a signalfd; before handing over it set them to SIG_IGN (dropping any
	// pending: the runtime is about to unblock INT, HUP, QUIT and TERM),
	// restored the mask and closed the signalfd. Main resumes superExec
	// where the fast path stopped (resumeEscalated).
	//
	// handoverEscalated: SuperExec went out with descriptors 0-2, and the
	// result on stream, unread, is not one the fast path decodes (or
	// poll(2) failed): Main reads it as readResult does.
	handoverEscalated
	// handoverSuperExecFailed: sending SuperExec failed with errno.
	handoverSuperExecFailed
	// handoverResultFailed: reading the result failed with errno (the
	// error is consumed: a second read would see end of file).
	handoverResultFailed
)
