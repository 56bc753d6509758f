package wrapper

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Signal state and exec transparency.
//
// A program started through the wrapper should see the signal dispositions
// and the signal mask the wrapper inherited. The kernel keeps both across
// execve, except that caught signals go back to SIG_DFL. The Go runtime,
// before any Go code runs, installs its own handler for most signals
// (replacing an inherited SIG_IGN for all but SIGHUP, SIGINT, the
// job-control signals and 32-34) and
// unblocks the signals it needs (faults, SIGHUP, SIGINT, SIGQUIT, SIGABRT,
// SIGTERM, SIGSYS, SIGCHLD, SIGPROF, SIGURG, 32-34); the original values
// survive only in unexported runtime variables, which plain Go cannot read.
// So what the runtime left untouched (ignored HUP and INT, as for `nohup` or
// `trap '' INT`; blocked USR1, PIPE, ALRM, real-time signals) arrives
// exactly, and the rest arrives as SIG_DFL and unblocked. That is the
// wrapper's known limit; a patched Bash with the in-shell client execs the
// program itself on Run and has none.
//
// The Run path must never call os/signal (Notify starts a thread that
// changes its own mask); only the Escalate path does, and it never execs.

// dieBySignal makes the wrapper die of sig, so that its parent Bash sees the
// same wait status the escalated command had. It returns 128+sig if sig does
// not terminate a process by default (the caller exits with that status).
func dieBySignal(sig int) int {
	if sig < 1 || sig > 64 || !terminatesByDefault(sig) {
		return 128 + sig
	}
	// The signal must be delivered to this thread with the default action:
	// the runtime's handler would ignore some signals (SIGUSR1) or dump
	// goroutines instead of dying (SIGQUIT).
	runtime.LockOSThread()
	var dfl [4]uint64 // struct sigaction with sa_handler = SIG_DFL, no flags, empty mask
	unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
	set := uint64(1) << (sig - 1)
	unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_UNBLOCK, uintptr(unsafe.Pointer(&set)), 0, 8, 0, 0)
	unix.Tgkill(unix.Getpid(), unix.Gettid(), unix.Signal(sig))
	// Not reached for a terminating signal; if something still kept us
	// alive, report the signal the shell way.
	return 128 + sig
}

// terminatesByDefault reports whether the default action of sig ends the
// process (terminate or core), as opposed to ignore, stop or continue.
func terminatesByDefault(sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGCHLD, unix.SIGCONT, unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU, unix.SIGURG, unix.SIGWINCH:
		return false
	}
	return true
}
