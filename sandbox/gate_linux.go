package sandbox

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/execgate/execgate/internal/disposable"
)

// The kernel gate: a second seccomp filter that hands every execve and
// execveat of the sandboxed process tree to the server (a user
// notification), which applies the rules to program starts the shell never
// sees (env, xargs, find -exec, interpreters, compiled programs). The
// server answers with SECCOMP_USER_NOTIF_FLAG_CONTINUE or an error; the
// sandbox itself stays the security boundary (see the README's security
// model for the gate's documented limit).

// gateFilter sends execve and execveat to the listener and refuses a new
// listener to everything it covers: a newer filter's user notification
// takes precedence over ours, so a listener the sandboxed code made itself
// would answer its own execs.
func gateFilter() ([]bpf.RawInstruction, error) {
	if auditArch == 0 {
		return nil, fmt.Errorf("kernel gate: architecture %s is not supported", runtime.GOARCH)
	}
	const (
		allow  = unix.SECCOMP_RET_ALLOW
		notify = unix.SECCOMP_RET_USER_NOTIF
		deny   = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	)
	prog := []bpf.Instruction{
		// A foreign architecture is the main filter's to kill.
		bpf.LoadAbsolute{Off: offArch, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: auditArch, SkipTrue: 1},
		bpf.RetConstant{Val: allow},
		bpf.LoadAbsolute{Off: offNr, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SYS_EXECVE, SkipTrue: 3},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SYS_EXECVEAT, SkipTrue: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SYS_SECCOMP, SkipTrue: 2},
		bpf.RetConstant{Val: allow},
		bpf.RetConstant{Val: notify},
		// seccomp(2): SECCOMP_SET_MODE_FILTER with NEW_LISTENER is refused.
		bpf.LoadAbsolute{Off: offArg0, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SECCOMP_SET_MODE_FILTER, SkipFalse: 3},
		bpf.LoadAbsolute{Off: offArg1, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, SkipFalse: 1},
		bpf.RetConstant{Val: deny},
		bpf.RetConstant{Val: allow},
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("kernel gate filter: %w", err)
	}
	return raw, nil
}

// gateAvailable says whether this kernel has what the gate needs: user
// notifications (5.0), the continue answer (5.5) and pidfd_getfd (5.6),
// with which the server writes the denial on the program's stderr.
func gateAvailable() error {
	action := uint32(unix.SECCOMP_RET_USER_NOTIF)
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_ACTION_AVAIL, 0, uintptr(unsafe.Pointer(&action))); errno != 0 {
		return fmt.Errorf("seccomp user notification is not available: %w (Linux 5.0 or later needed)", errno)
	}
	if _, err := unix.PidfdGetfd(-1, 0, 0); errors.Is(err, unix.ENOSYS) {
		return errors.New("pidfd_getfd is not available (Linux 5.6 or later needed)")
	}
	return nil
}

// listenerAllowed makes a seccomp listener, to learn whether something
// refuses one where the kernel has the feature (a container's seccomp
// profile, which calls would otherwise find out one at a time). It does so
// on a disposable thread: the filter it loads (allow everything) and
// no_new_privs end with that thread.
func listenerAllowed() error {
	return disposable.Thread(func() error {
		// An unprivileged process needs no_new_privs to load a filter.
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
		}
		filter := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW}}
		prog := unix.SockFprog{Len: 1, Filter: &filter[0]}
		fd, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
			unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, uintptr(unsafe.Pointer(&prog)))
		runtime.KeepAlive(filter)
		if errno != 0 {
			return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, NEW_LISTENER): %w", errno)
		}
		return unix.Close(int(fd))
	})
}

// Reporting the gate. A helper asked for a gate (helperSpec.Gate) keeps
// its end of the control socket until, just before it execs the program,
// it has installed the gate and sent one message (nsexec/helper.c:
// report_gate): gateMsg with the listener, or noGateMsg and why there is
// none, which the server takes in the background (awaitGate). The socket
// is close-on-exec and
// closed once the report is sent, so nothing of the call ever holds it:
// the sandboxed code cannot report a gate of its own making.

const (
	// gateMsg carries the listener in SCM_RIGHTS.
	gateMsg = 'G'
	// noGateMsg is followed by why there is no gate, as text.
	noGateMsg = 'N'
	// maxGateWhy bounds that text.
	maxGateWhy = 1024
)
