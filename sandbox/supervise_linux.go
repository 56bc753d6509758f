package sandbox

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// relayed signals are passed on to the program. SIGTERM is not: it ends
// the call (see supervise).
var relayed = []os.Signal{syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGWINCH, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGCONT}

// supervise starts the program as a child and waits for it, reaping every
// orphan that lands here, relaying signals, and returning the program's
// status (128+N if signal N killed it). As pid 1 of a pid namespace
// (isInit) the kernel kills what is left when we return; otherwise this
// process is a child subreaper and kills the leftovers itself, setsid'd
// background jobs included. SIGTERM ends the call at once: everything is
// killed and the status is 128+SIGTERM. With gate set, the program starts
// under the kernel gate gate asks for (see announceGate), and always inside
// bound.
func supervise(argv []string, isInit bool, gate *helperSpec, bound processBound) int {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "execgate sandbox: %s: %v\n", argv[0], err)
		return exitNotFound
	}
	if !isInit {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return helperFail(fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", err))
		}
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGTERM)
	for _, s := range relayed {
		// A signal our parent ignores stays ignored for the program too.
		if !signal.Ignored(s) {
			signal.Notify(sigs, s)
		}
	}
	// Without Landlock's TSYNC (ABI < 8) every thread of this process
	// got its own Landlock domain, and signal scoping tells them apart:
	// only the thread that forks Bash shares Bash's domain. That thread
	// therefore stays locked to this goroutine, which relays signals.
	runtime.LockOSThread()
	pid, err := bound.start(func() (int, error) { return startChild(path, argv, gate) })
	if err != nil {
		fmt.Fprintf(os.Stderr, "execgate sandbox: exec %s: %v\n", path, err)
		return exitNoExec
	}
	exited := make(chan int, 1)
	go func() { exited <- waitFor(pid) }()
	for {
		select {
		case status := <-exited:
			if !isInit {
				killDescendants()
			}
			return status
		case sig := <-sigs:
			if sig != syscall.SIGTERM {
				_ = syscall.Kill(pid, sig.(syscall.Signal))
				continue
			}
			if !isInit {
				killDescendants()
			}
			return 128 + int(syscall.SIGTERM)
		}
	}
}

// startChild forks and execs the program with stdio and, when open, the
// escalate socket (fd 3). The ambient capabilities and the parent-death
// signal are per thread: the caller has locked the thread, whose ambient
// set is cleared here.
func startChild(path string, argv []string, gate *helperSpec) (int, error) {
	if err := dropAmbient(); err != nil {
		return 0, err
	}
	if gate != nil {
		if err := announceGate(*gate); err != nil {
			return 0, err
		}
	}
	files := []uintptr{0, 1, 2}
	if inheritedFD3() {
		files = append(files, 3)
	}
	return syscall.ForkExec(path, argv, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: files,
		Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	})
}

// inheritedFD3 reports whether fd 3 is the escalate socket: an fd our
// parent passed on (close-on-exec clear), not one the Go runtime opened
// for itself (always close-on-exec), which must not reach the program.
func inheritedFD3() bool {
	flags, err := unix.FcntlInt(3, unix.F_GETFD, 0)
	return err == nil && flags&unix.FD_CLOEXEC == 0
}

// waitFor reaps children, orphans included, until pid exits, and returns
// its status.
func waitFor(pid int) int {
	for {
		var ws syscall.WaitStatus
		wpid, err := syscall.Wait4(-1, &ws, 0, nil)
		switch {
		case err == syscall.EINTR:
		case err == syscall.ECHILD:
			// Only after SIGTERM, when killDescendants reaped pid.
			return exitSetup
		case err != nil:
			fmt.Fprintf(os.Stderr, "execgate sandbox: wait: %v\n", err)
			return exitSetup
		case wpid == pid:
			return exitStatus(ws)
		}
	}
}

func exitStatus(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// killDescendants kills our children until none is left. Killing a child
// reparents its own children to us (we are their subreaper), so repeating
// reaches every descendant, however it detached itself.
func killDescendants() {
	for range 10000 {
		if !hasChildren() {
			return // the common case, in one syscall
		}
		kids := children()
		if len(kids) == 0 {
			return
		}
		for _, k := range kids {
			_ = syscall.Kill(k, syscall.SIGKILL)
		}
		// Wait for these very pids: another goroutine may be reaping
		// with wait4(-1), and then ours ends at once with ECHILD.
		for _, k := range kids {
			for {
				if _, err := syscall.Wait4(k, nil, 0, nil); err != syscall.EINTR {
					break
				}
			}
		}
	}
}

// hasChildren reaps exited children and reports whether any is left.
func hasChildren() bool {
	for {
		wpid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
		switch {
		case err == syscall.EINTR:
		case err != nil: // ECHILD
			return false
		case wpid == 0: // children, none exited
			return true
		}
	}
}

// children lists our child processes, zombies included. Children belong to
// the thread that forked them (or received them as orphans), so every
// thread's list is read.
func children() []int {
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	if len(tasks) == 0 {
		out = childrenByScan()
	}
	return out
}

// childrenByScan finds children through /proc/PID/stat, for kernels built
// without CONFIG_PROC_CHILDREN.
func childrenByScan() []int {
	self := os.Getpid()
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command name may contain spaces and parentheses: the
		// fields we want follow the last ')'.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 1 {
			if ppid, _ := strconv.Atoi(f[1]); ppid == self {
				out = append(out, n)
			}
		}
	}
	return out
}
