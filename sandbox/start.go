package sandbox

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Proc is what a started command gets besides its argv: working directory,
// environment and files. Nil files mean /dev/null; Extra, when set, becomes
// fd 3 (the escalate socket).
type Proc struct {
	Dir                   string
	Env                   []string
	Stdin, Stdout, Stderr *os.File
	Extra                 *os.File
	// OnGate, when the spec asks for a kernel gate (Spec.KernelGate) and
	// Start succeeds, is called once, from another goroutine, with the
	// helper's report: just before the program starts (whose program
	// starts then wait for the listener's answer), or, when the helper
	// ends first, with why there is no gate. It takes the listener;
	// without OnGate the listener is closed, and every program start of
	// the call fails.
	OnGate func(Gate)
}

// Gate is what a helper reported about a call's kernel gate (see
// gate_linux.go).
type Gate struct {
	// Listener is the seccomp notification fd of the call's program
	// starts (close-on-exec), nil when the call has no gate.
	Listener *os.File
	// Why says why there is no gate ("" with a Listener).
	Why string
}

// Start starts argv (Bash, by its absolute path, and its arguments) under
// spec with p: on Linux a helper (`execgate-nsexec --ns|--no-ns --start`)
// in its own process group, killed if the server dies, which receives the
// call over its control socket (see control_linux.go). When a spare helper
// is ready (see Prepare) the call goes to it instead: a helper started
// ahead of time, with namespaces already made, which takes a process start
// off the call's path. Either way the command runs the same code with the
// same confinement; only who started the helper differs.
//
// The returned command is running: the caller must Wait for it, and reads
// its pid (also its process group) from cmd.Process. When ctx ends the
// helper gets SIGTERM, which ends every process of the call at once.
//
// A mode that cannot be enforced here is an *UnenforceableError and
// nothing is started. Otherwise the Observe function, if any, learns the
// call's Protection before the helper runs anything.
func (l *Launcher) Start(ctx context.Context, spec Spec, argv []string, p Proc) (*exec.Cmd, error) {
	// The helper looks nothing up: it execs what it is given.
	if len(argv) == 0 || !filepath.IsAbs(argv[0]) {
		return nil, fmt.Errorf("sandbox: program %q: want an absolute path", argv)
	}
	h, err := l.helperSpec(spec, argv)
	if err != nil {
		return nil, err
	}
	if h.PidsCgroup, err = l.pids.newGroup(); err != nil {
		return nil, err
	}
	if l.observe != nil {
		l.observe(h.protection())
	}
	cmd, err := l.startCall(ctx, h, argv, p)
	if err != nil {
		l.pids.release(h.PidsCgroup)
		return nil, err
	}
	l.pids.attach(h.PidsCgroup, cmd)
	return cmd, nil
}
