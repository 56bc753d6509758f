//go:build execgate_exactsignals

package wrapper

import (
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Exact signal inheritance, an opt-in build:
//
//	go build -tags execgate_exactsignals -ldflags=-checklinkname=0 ...
//
// The Go runtime keeps what it found at start-up in two unexported variables:
// fwdSig (each signal's inherited handler, SIG_DFL=0 or SIG_IGN=1 right after
// execve) and initSigmask (the inherited mask). Reading them needs a
// linkname the linker refuses by default, hence the flag. The layouts below
// are those of Go 1.26 on Linux; restoreInheritedSignals checks the version
// and that the values are plausible, and otherwise does nothing (leaving the
// default behaviour described in signal_linux.go).

//go:linkname runtimeFwdSig runtime.fwdSig
var runtimeFwdSig [65]uintptr

//go:linkname runtimeInitSigmask runtime.initSigmask
var runtimeInitSigmask [2]uint32

// restoreInheritedSignals puts back every inherited SIG_IGN and the
// inherited mask on the calling thread, which it locks: the execve that
// follows must run on this thread.
func restoreInheritedSignals() {
	if !strings.HasPrefix(runtime.Version(), "go1.26") {
		return
	}
	for _, h := range runtimeFwdSig {
		if h > 1 { // not SIG_DFL/SIG_IGN: not the layout we know
			return
		}
	}
	mask := uint64(runtimeInitSigmask[0]) | uint64(runtimeInitSigmask[1])<<32
	if mask&(1<<(unix.SIGKILL-1)|1<<(unix.SIGSTOP-1)) != 0 { // unblockable: not a real mask
		return
	}
	runtime.LockOSThread()
	ign := [4]uint64{1} // struct sigaction with sa_handler = SIG_IGN
	for sig := 1; sig < len(runtimeFwdSig); sig++ {
		if runtimeFwdSig[sig] == 1 {
			unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&ign)), 0, 8, 0, 0)
		}
	}
	unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&mask)), 0, 8, 0, 0)
}
