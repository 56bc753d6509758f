package sandbox

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

func runHelper(args []string) int {
	if len(args) == 1 {
		switch args[0] {
		case probeNamespacesArg:
			return probeNamespacesChild()
		case probeLauncherArg:
			return 0
		case spareArg:
			return runSpare(true)
		case startedArg:
			return runSpare(false)
		}
	}
	return helperFail(fmt.Errorf("usage: sandbox %s|%s|%s (the sandbox launcher starts this role)", spareArg, startedArg, probeNamespacesArg))
}

// runSpec confines this process as h says and execs argv. Its parent, the
// sandbox launcher (nsexec/nsexec.c), supervises what argv becomes: it
// reaps, relays signals and ends the call, from outside the call's
// Landlock domain.
func runSpec(h helperSpec, argv []string) int {
	if _, err := ParseMode(string(h.Mode)); err != nil {
		return helperFail(fmt.Errorf("bad spec: %w", err))
	}
	if h.Namespaces && !inCallNamespaces() {
		// Only the launcher's namespace clone puts us there; without it
		// nothing would kill what the call leaves behind.
		return helperFail(errors.New("spec says namespaces, but this helper is not the child of pid 1 of a new pid namespace"))
	}
	if err := h.checkFilters(); err != nil {
		return helperFail(err)
	}
	if err := closeExtraFDs(); err != nil {
		return helperFail(err)
	}
	bound, err := openBound(h)
	if err != nil {
		return helperFail(err)
	}
	if err := confineSelf(h); err != nil {
		return helperFail(err)
	}
	return execProgram(argv, h, bound)
}

// inCallNamespaces reports whether this process is the first child of pid 1
// of a pid namespace, where the launcher starts the helper: pid 2 of the
// first pid namespace is a kernel thread, never a helper.
func inCallNamespaces() bool {
	return os.Getpid() == 2 && os.Getppid() == 1
}

// confineSelf sets up the namespaces when h has them and confines this
// process with the ruleset the server built.
func confineSelf(h helperSpec) error {
	if !h.Namespaces && (len(h.Mounts) > 0 || h.Shell != nil) {
		return errors.New("bad spec: mounts without namespaces")
	}
	if h.Namespaces {
		if err := setupNamespaces(h); err != nil {
			return err
		}
	}
	return confine(h)
}

// setupNamespaces runs as root of the new user namespace: the layout's
// mounts (protected paths read-only, denied paths hidden), /proc showing
// only this pid namespace, and the working directory looked up again so
// that it goes through the new mounts (a cwd inside .git would otherwise
// still reach the writable one).
func setupNamespaces(h helperSpec) error {
	if err := applyMounts(h.Mounts, h.Writable, h.AllWritable); err != nil {
		return err
	}
	if err := mountShell(h.Shell); err != nil {
		return err
	}
	if h.Proc {
		if err := mountProc(); err != nil {
			return err
		}
	}
	if wd, err := os.Getwd(); err == nil {
		if err := os.Chdir(wd); err != nil {
			return fmt.Errorf("re-enter working directory %s: %w", wd, err)
		}
	}
	return nil
}

// rulesetFD is, in a helper, the Landlock ruleset the server built for
// the call (helperSpec.Landlock), until confine uses it; -1 otherwise.
var rulesetFD = -1

// confine applies Landlock and then the seccomp filter to every thread.
// Both are irreversible and inherited by everything started afterwards.
func confine(h helperSpec) error {
	if h.Mode == DangerFullAccess {
		return nil
	}
	if !h.Landlock || rulesetFD < 0 {
		return errors.New("bad spec: a sandboxed call without its Landlock ruleset")
	}
	// Whether seccomp filters are available the server's probe has
	// checked (Capabilities.check): a filter refused here fails closed in
	// installSeccomp, naming the errno.
	err := restrictLandlock(rulesetFD, uint32(h.LandlockFlags))
	unix.Close(rulesetFD)
	rulesetFD = -1
	if err != nil {
		return err
	}
	// The server assembled the filter (attachFilters). With namespaces
	// the filesystem outside the writable roots is mounted read-only (see
	// readOnlyOutside); without, the filter also refuses setuid and setgid
	// bits, the closest protection there.
	return installSeccomp(h.Seccomp)
}

// dropAmbient clears the ambient capabilities of the calling thread, the
// one that will exec the program: inside the user namespace the
// helper holds CAP_SYS_ADMIN as an ambient capability, which the program
// must not inherit. The caller has locked the OS thread.
func dropAmbient() error {
	err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
	if err != nil && !errors.Is(err, unix.EINVAL) { // EINVAL: kernel < 4.3, no ambient set
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	return nil
}

// execProgram replaces the helper with the program, inside bound and
// after installing the kernel gate h asks for.
func execProgram(argv []string, h helperSpec, bound processBound) int {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "execgate sandbox: %s: %v\n", argv[0], err)
		return exitNotFound
	}
	// The gate is installed on this thread, and the capabilities cleared
	// here are per thread: both must be the exec's.
	runtime.LockOSThread()
	if err := dropAmbient(); err != nil {
		return helperFail(err)
	}
	if err := reportGate(h); err != nil {
		return helperFail(err)
	}
	if err := bound.enter(); err != nil {
		return helperFail(err)
	}
	err = unix.Exec(path, argv, os.Environ())
	fmt.Fprintf(os.Stderr, "execgate sandbox: exec %s: %v\n", path, err)
	return exitNoExec
}

// closeExtraFDs marks every fd above 3 close-on-exec: whatever the server
// leaked by mistake stops here, and the program gets only stdio and the
// escalate socket.
func closeExtraFDs() error {
	err := unix.CloseRange(4, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("close_range: %w", err)
	}
	// Before Linux 5.11: one fcntl per open fd.
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("list open fds: %w", err)
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 3 {
			_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC)
		}
	}
	return nil
}

// inheritedFD3 reports whether fd 3 is the escalate socket: an fd our
// parent passed on (close-on-exec clear), not one the Go runtime opened
// for itself (always close-on-exec), which must not reach the program.
func inheritedFD3() bool {
	flags, err := unix.FcntlInt(3, unix.F_GETFD, 0)
	return err == nil && flags&unix.FD_CLOEXEC == 0
}
