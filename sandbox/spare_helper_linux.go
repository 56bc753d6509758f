package sandbox

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// The helper's side of a spare (see spare_linux.go for the server's).

// runSpare is the helper side: wait for the activation, take its files,
// environment and directory, and go on as a helper started for the call.
// A helper started for a call (pooled false) runs the same code and finds
// its activation already queued.
func runSpare(pooled bool) int {
	// Ready: the server puts a spare in its pool only after this message,
	// so a call never waits for a spare's start. Failing to send it means
	// the server has gone or given up on this spare. A helper started for
	// a call sends none: the server, which has closed its end, would
	// leave it unread, and a socket closed with unread messages resets
	// its peer, this helper, before it could receive the activation.
	if pooled {
		if err := unix.Sendmsg(spareFD, []byte{spareReady}, nil, nil, unix.MSG_NOSIGNAL); err != nil {
			return 0
		}
	}
	payload, fds, err := receiveActivation(spareFD)
	if errors.Is(err, errNoActivation) {
		return 0 // the server no longer needs this spare
	}
	if err != nil {
		return helperFail(fmt.Errorf("spare: %w", err))
	}
	a, err := decodeActivation(payload)
	if err != nil {
		closeFDs(fds)
		return helperFail(fmt.Errorf("spare: bad activation: %w", err))
	}
	if a.Spec.Landlock && len(fds) > 0 {
		rulesetFD, fds = fds[0], fds[1:]
	}
	if a.Spec.PidsCgroup != "" && len(fds) > 0 {
		cgroupFD, fds = fds[0], fds[1:]
	}
	if len(fds) != 3 && len(fds) != 4 {
		closeFDs(fds)
		return helperFail(fmt.Errorf("spare: activation with %d files for the call, want 3 or 4", len(fds)))
	}
	if a.Spec.Gate {
		// Kept apart from fds 0-3, where the call's files go, for the
		// gate report (reportGate).
		if statusFD, err = unix.FcntlInt(spareFD, unix.F_DUPFD_CLOEXEC, 4); err != nil {
			closeFDs(fds)
			return helperFail(fmt.Errorf("spare: keep the control socket: %w", err))
		}
	}
	// The call's files now, so that any error below reaches its output.
	if err := takeFiles(fds); err != nil {
		return helperFail(err)
	}
	if len(a.Argv) == 0 {
		return helperFail(errors.New("spare: activation without a command"))
	}
	os.Clearenv()
	for _, kv := range a.Env {
		// An entry without '=' is dropped, as execve's callers do.
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			os.Setenv(k, v)
		}
	}
	if a.Dir != "" {
		if err := os.Chdir(a.Dir); err != nil {
			return helperFail(fmt.Errorf("working directory: %w", err))
		}
	}
	return runSpec(a.Spec, a.Argv)
}

// takeFiles moves the received files onto fds 0, 1, 2 and, when there is
// a fourth, 3, which replaces the control socket (closed otherwise). The
// new fds are inherited across exec, like a started helper's.
func takeFiles(fds []int) error {
	for i, fd := range fds {
		if err := unix.Dup3(fd, i, 0); err != nil {
			return fmt.Errorf("spare: move fd %d to %d: %w", fd, i, err)
		}
	}
	if len(fds) == 3 {
		unix.Close(spareFD)
	}
	for i, fd := range fds {
		if fd != i {
			unix.Close(fd)
		}
	}
	return nil
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
