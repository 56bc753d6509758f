package sandbox

import (
	"fmt"
	"os"
	"runtime"
)

// Exit statuses of the helper itself (Bash's own status passes through).
const (
	exitSetup    = 125 // the sandbox could not be set up: nothing ran
	exitNoExec   = 126 // the program exists but could not be executed
	exitNotFound = 127 // the program was not found
)

// probeNamespacesArg selects the helper's namespace self-test.
const probeNamespacesArg = "--probe-namespaces"

// probeLauncherArg is the role that only exits 0: started through the
// launcher without namespaces, it tells a launcher that works from one
// that does not (see Probe).
const probeLauncherArg = "--probe-launcher"

// HelperMain is the hidden `execgate sandbox ROLE` role, which the sandbox
// launcher starts; args is everything after "sandbox". As a helper for a
// call (or a spare) it takes the call's activation off its control socket,
// confines itself as the plan says and execs the program, whose exit
// status its parent, the launcher's supervisor, passes on. If the sandbox
// cannot be set up it prints one line to stderr and returns 125 without
// running anything.
func HelperMain(args []string) int {
	// One processor: the helper runs a few goroutines that mostly wait in
	// syscalls, and each more processor has the runtime start threads,
	// which cost a clone each and make every all-threads syscall (Landlock,
	// no_new_privs) slower. A spare starts with GOMAXPROCS=1 already (the
	// call's environment, which Bash gets, must not carry it).
	runtime.GOMAXPROCS(1)
	return runHelper(args)
}

func helperFail(err error) int {
	fmt.Fprintf(os.Stderr, "execgate sandbox: %v\n", err)
	return exitSetup
}
