package wrapper

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Signal state and exec transparency.
//
// A program started through the wrapper must see the signal dispositions and
// the signal mask the wrapper inherited. The Go runtime, before any Go code
// runs, installs its own handler for most signals and unblocks a few on every
// thread. What that means for the in-place exec:
//
//   - Handlers: execve resets every handled signal to SIG_DFL, which is what
//     the program gets from Bash for a signal that was not ignored. A signal
//     that was SIG_IGN keeps SIG_IGN across execve as long as nobody replaced
//     it, and the runtime leaves SIGHUP and SIGINT alone when they were
//     ignored (as for `nohup` or `trap '' INT`), as well as SIGCONT, SIGTSTP,
//     SIGTTIN, SIGTTOU and signals 32-34. For those, inheritance is exact
//     with no work at all. For the other signals the runtime overwrites an
//     inherited SIG_IGN with its handler and keeps the old value only in an
//     unexported variable that the linker does not let other packages reach,
//     so a SIG_IGN inherited for, say, SIGQUIT, SIGTERM or SIGPIPE reaches
//     the program as SIG_DFL. Pure Go cannot observe it earlier: no user code
//     runs before the runtime's signal set-up.
//   - Mask: every runtime thread starts from the mask the process inherited,
//     minus the signals the runtime needs (synchronous faults, SIGHUP,
//     SIGINT, SIGQUIT, SIGABRT, SIGTERM, SIGSYS, SIGCHLD, SIGPROF, SIGURG,
//     32-34). execve keeps the calling thread's mask, so any other blocked
//     signal (SIGUSR1, SIGPIPE, SIGALRM, real-time signals...) reaches the
//     program blocked, exactly as inherited; a blocked signal from that list
//     reaches it unblocked.
//
// The Run path therefore does no signal syscalls: any explicit "restore"
// would only rewrite what the kernel and the runtime already leave in place.
// It must also never call os/signal (Notify starts a thread that changes its
// own mask); only the Escalate path does, and it never execs.

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
