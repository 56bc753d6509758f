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
// under the kernel gate gate asks for (see reportGate), and always inside
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
	// Children are reaped here, on SIGCHLD, rather than by a goroutine
	// blocked in wait4: that goroutine holds an OS thread of its own (a
	// clone, a thread more for the exit to tear down) and has the
	// runtime hand its processor over while it waits. One pending
	// SIGCHLD stands for any number of exited children, as the kernel
	// merges them too: each is answered by reaping until none is left,
	// so a full channel loses nothing.
	chld := make(chan os.Signal, 1)
	signal.Notify(chld, syscall.SIGCHLD)
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
	for {
		// Before the first SIGCHLD too: the program may have exited
		// already.
		if status, done := reap(pid); done {
			if !isInit {
				killDescendants()
			}
			return status
		}
		select {
		case <-chld:
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
// set is cleared here. With gate set, the gate is installed and reported
// first (reportGate). Without, what the helper holds for its second stage
// (the program then) is handed on: the gate report it owes the server as
// fd 4, the Landlock ruleset as fd 5 (see runSpec).
func startChild(path string, argv []string, gate *helperSpec) (int, error) {
	if err := dropAmbient(); err != nil {
		return 0, err
	}
	if gate != nil {
		if err := reportGate(*gate); err != nil {
			return 0, err
		}
	}
	fd3 := -1
	if inheritedFD3() {
		fd3 = 3
	}
	files := []uintptr{0, 1, 2}
	if fd3 >= 0 {
		files = append(files, 3)
	}
	if statusFD >= 0 || rulesetFD >= 0 {
		// The second stage: at the numbers runSpec looks for them (an
		// fd of -1 leaves that number closed in the child), and this
		// stage's copies closed once it has started.
		files = []uintptr{0, 1, 2, uintptr(fd3), uintptr(statusFD), uintptr(rulesetFD)}
		defer closeHandedOn()
	}
	return syscall.ForkExec(path, argv, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: files,
		Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	})
}

// The numbers at which the no-namespace helper hands its second stage the
// gate report it owes the server (statusFD) and the Landlock ruleset
// (rulesetFD).
const (
	stage2StatusFD  = 4
	stage2RulesetFD = 5
)

// closeHandedOn closes what startChild handed on to the second stage.
func closeHandedOn() {
	for _, fd := range []*int{&statusFD, &rulesetFD} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
	}
}

// inheritedFD3 reports whether fd 3 is the escalate socket: an fd our
// parent passed on (close-on-exec clear), not one the Go runtime opened
// for itself (always close-on-exec), which must not reach the program.
func inheritedFD3() bool {
	flags, err := unix.FcntlInt(3, unix.F_GETFD, 0)
	return err == nil && flags&unix.FD_CLOEXEC == 0
}

// reap reaps the children that have exited, orphans included, without
// waiting, and returns pid's status once it is one of them.
func reap(pid int) (status int, done bool) {
	for {
		var ws syscall.WaitStatus
		wpid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		switch {
		case err == syscall.EINTR:
		case err != nil:
			// ECHILD: pid is gone unreaped, which nothing here does.
			fmt.Fprintf(os.Stderr, "execgate sandbox: wait: %v\n", err)
			return exitSetup, true
		case wpid == 0:
			return 0, false // children left, none exited
		case wpid == pid:
			return exitStatus(ws), true
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
		// Wait for these very pids, so that each is known gone.
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
		// The parent's pid is the second field after the name.
		if f, ok := procStatFields(e.Name()); ok && len(f) > 1 {
			if ppid, _ := strconv.Atoi(f[1]); ppid == self {
				out = append(out, n)
			}
		}
	}
	return out
}
