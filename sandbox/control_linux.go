package sandbox

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/execgate/execgate/internal/frame"
	"github.com/execgate/execgate/internal/parked"
)

// The control socket between the server and a helper is a SOCK_SEQPACKET
// pair: each message arrives whole or not at all, with its descriptors, so
// neither side needs framing code. A pooled spare sends spareReady when it
// waits (a helper started for a call sends nothing: see nsexec/helper.c);
// the server sends one activation: activationMsg, with SCM_RIGHTS holding a
// sealed memfd with the plan (encodePlan: no size limit, unlike a socket
// message), the Landlock ruleset of a sandboxed call, the cgroup.procs of
// a bounded one, then the call's stdin, stdout, stderr and, optionally, its
// escalate socket.

// activationMsg is the body of the activation message.
const activationMsg = 'A'

// activationFD is a sealed memfd holding payload, close-on-exec: written
// once, it cannot change while the helper reads it.
func activationFD(payload []byte) (int, error) {
	fd, err := unix.MemfdCreate("execgate-activation", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return -1, fmt.Errorf("sandbox: memfd for the activation: %w", err)
	}
	for rest := payload; len(rest) > 0; {
		n, err := unix.Write(fd, rest)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("sandbox: write the activation: %w", err)
		}
		rest = rest[n:]
	}
	const seals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("sandbox: seal the activation: %w", err)
	}
	return fd, nil
}

// sendActivation sends the activation message on ctl: the memfd, then
// files (the Landlock ruleset if any, then the call's). An error means the
// helper is gone (EPIPE) or the message was refused; either way nothing of
// the call ran.
func sendActivation(ctl, memfd int, files []int) error {
	if err := sendControl(ctl, []byte{activationMsg}, append([]int{memfd}, files...)); err != nil {
		return fmt.Errorf("sandbox: activate the helper: %w", err)
	}
	return nil
}

// sendControl sends one control-socket message: msg, with fds as
// SCM_RIGHTS.
func sendControl(sock int, msg []byte, fds []int) error {
	var rights []byte
	if len(fds) > 0 {
		rights = unix.UnixRights(fds...)
	}
	for {
		if err := unix.Sendmsg(sock, msg, rights, nil, frame.SendFlags); err != unix.EINTR {
			return err
		}
	}
}

// recvControl receives one control-socket message into buf, with at most
// maxFDs descriptors (close-on-exec); truncated says the message or its
// descriptors did not fit. flags are recvmsg's (MSG_DONTWAIT).
func recvControl(ctl int, buf []byte, maxFDs, flags int) (n int, fds []int, truncated bool, err error) {
	oob := make([]byte, unix.CmsgSpace(maxFDs*4))
	var oobn, got int
	for {
		n, oobn, got, _, err = unix.Recvmsg(ctl, buf, oob, frame.RecvFlags|flags)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return 0, nil, false, err
	}
	if oobn > 0 {
		if fds, err = frame.ParseRights(oob[:oobn]); err != nil {
			return 0, nil, false, err
		}
	}
	return n, fds, got&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0, nil
}

// activationFiles lists the fds to send: stdin, stdout, stderr (/dev/null
// for nil ones) and the escalate socket if any.
func activationFiles(p Proc) (fds []int, err error) {
	for _, f := range []*os.File{p.Stdin, p.Stdout, p.Stderr} {
		if f == nil {
			if f, err = devNull(); err != nil {
				return nil, fmt.Errorf("sandbox: %w", err)
			}
		}
		// Fd puts the file in blocking mode, as os/exec does for a
		// child's files: the program must not find O_NONBLOCK on its
		// stdio.
		fds = append(fds, int(f.Fd()))
	}
	if p.Extra != nil {
		fds = append(fds, int(p.Extra.Fd()))
	}
	return fds, nil
}

// awaitGate waits on ctl for the helper's gate report (see reportGate),
// parked in the netpoller. A helper that ends first (it failed to set up,
// or was ended) reports no gate, and so does a malformed report.
func awaitGate(ctl int) Gate {
	buf := make([]byte, 1+maxGateWhy+1)
	for {
		n, fds, truncated, err := recvControl(ctl, buf, 4, unix.MSG_DONTWAIT)
		switch {
		case err == unix.EAGAIN:
			if _, err := parked.Readable(ctl, gateReportWait); err != nil {
				return Gate{Why: fmt.Sprintf("waiting for the sandbox helper's report: %v", err)}
			}
			continue
		case err != nil:
			return Gate{Why: fmt.Sprintf("the sandbox helper's report: %v", err)}
		case n == 0 && len(fds) == 0:
			return Gate{Why: "the sandbox helper ended before it started the program"}
		case !truncated && n == 1 && buf[0] == gateMsg && len(fds) == 1:
			return Gate{Listener: os.NewFile(uintptr(fds[0]), "seccomp-listener")}
		case !truncated && n >= 1 && buf[0] == noGateMsg && len(fds) == 0:
			return Gate{Why: string(buf[1:n])}
		}
		frame.CloseAll(fds)
		return Gate{Why: fmt.Sprintf("malformed report from the sandbox helper (%d bytes, %d files)", n, len(fds))}
	}
}

// gateReportWait is how long awaitGate parks before it looks again; the
// helper's end (at worst when ctx ends the call) always ends the wait.
const gateReportWait = time.Minute
