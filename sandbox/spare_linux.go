package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/execgate/execgate/internal/parked"
)

// A spare is a helper started ahead of a call. It is the same program in
// the same role, started the same way (process group, parent-death signal
// and, for a sandboxed call with namespaces, new user, mount and pid
// namespaces) as the helper started for a call when no spare is ready, and
// it waits, as that one does, on a control socket (its fd 3) for the call:
// one activation with the plan (encodePlan: the helper's part of the spec,
// Bash's argv, environment and working directory), and the call's files as
// SCM_RIGHTS (see control_linux.go). The helper puts the call's stdio and
// escalate socket on fds 0-3 and goes on (nsexec/helper.c).
// Before activation a spare has done nothing but start: it holds no call's
// files, has applied no confinement, and exits when the control socket
// closes.
//
// This takes the helper's process start (with namespaces, creating them,
// about a millisecond and a half) off the call's path.

// spareArg selects the spare role: `execgate-nsexec --ns|--no-ns --spare`.
const spareArg = "--spare"

// startedArg is the same role for a helper started for a call, whose
// activation is sent at once: `execgate-nsexec --ns|--no-ns --start`. Only
// the name differs, so that a process listing (and a test) tells them
// apart.
const startedArg = "--start"

// spareReady is the byte a spare sends once it waits for its activation.
const spareReady = 'R'

// spareStartTimeout bounds the wait for a new spare's readiness.
const spareStartTimeout = 5 * time.Second

// spareWait bounds how long a call waits for a spare that is starting; a
// spare is normally ready within a few milliseconds.
const spareWait = 50 * time.Millisecond

// spare is the server's handle on one waiting spare.
type spare struct {
	cmd *exec.Cmd
	ctl int // the server's end of the control socket
	// mounts is the mount table generation the spare (with namespaces)
	// copied when it started.
	mounts uint64
}

// sparePool holds at most one idle spare per kind (with or without
// namespaces). The zero value is ready to use.
type sparePool struct {
	mu       sync.Mutex
	idle     [2]*spare        // indexed by kindIndex
	starting [2]chan struct{} // while a spare starts; closed when it is pooled or failed
	closed   bool
	// mounts watches the server's mount table (nil until the first
	// spare with namespaces, or if it cannot be watched: see mountWatch).
	mounts       *mountWatch
	mountsFailed bool
	// wait replaces spareWait when set (tests on a loaded machine).
	wait time.Duration
}

func kindIndex(ns bool) int {
	if ns {
		return 1
	}
	return 0
}

// Prepare starts a spare helper for calls under spec in the background,
// unless one is idle or starting. Start hands the next call of that kind
// (with or without namespaces) to it. The server prepares one at startup
// and one after each call, rather than when a call starts, so that the
// spare's start does not compete with the call for the CPU.
func (l *Launcher) Prepare(spec Spec) {
	// Only the kind matters here, not the layout (which may scan globs).
	if spec.Policy.Validate() != nil || l.caps.check(spec.Policy.Mode, spec.landlockABI) != nil {
		return // Start reports it when a call asks for this spec
	}
	go l.refill(l.layoutOptions(spec).namespaces)
}

// Close ends the idle spares and stops making new ones. Calls already
// started are not affected.
func (l *Launcher) Close() {
	p := &l.spares
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = [2]*spare{}
	if p.mounts != nil {
		p.mounts.close()
		p.mounts = nil
	}
	p.mu.Unlock()
	for _, s := range idle {
		if s != nil {
			s.discard()
		}
	}
	l.pids.close()
}

// refill starts a spare of the given kind unless one is idle or starting.
func (l *Launcher) refill(ns bool) {
	p := &l.spares
	k := kindIndex(ns)
	p.mu.Lock()
	if p.closed || p.idle[k] != nil || p.starting[k] != nil {
		p.mu.Unlock()
		return
	}
	var gen uint64
	if ns {
		// Taken before the spare copies the table: a change while it
		// starts makes it stale, never the other way round.
		var ok bool
		if gen, ok = p.mountGeneration(); !ok {
			p.mu.Unlock()
			return // a spare could not be checked before use
		}
	}
	started := make(chan struct{})
	p.starting[k] = started
	p.mu.Unlock()
	defer close(started)

	s, err := l.startSpare(ns, spareArg)
	if err == nil {
		err = s.awaitReady()
	}

	p.mu.Lock()
	p.starting[k] = nil
	if err != nil || p.closed {
		p.mu.Unlock()
		if s != nil {
			s.discard()
		}
		return
	}
	s.mounts = gen
	p.idle[k] = s
	p.mu.Unlock()
}

// takeSpare removes the idle spare of the given kind from the pool, nil if
// there is none or it has died. A spare still starting is waited for, a
// little: it is further along than a helper the call would start now, and
// would compete with it for the CPU.
func (l *Launcher) takeSpare(ns bool) *spare {
	p := &l.spares
	k := kindIndex(ns)
	p.mu.Lock()
	if started := p.starting[k]; started != nil && p.idle[k] == nil {
		p.mu.Unlock()
		wait := spareWait
		if p.wait > 0 {
			wait = p.wait
		}
		t := time.NewTimer(wait)
		select {
		case <-started:
		case <-t.C:
		}
		t.Stop()
		p.mu.Lock()
	}
	s := p.idle[k]
	p.idle[k] = nil
	if s != nil && ns {
		if gen, ok := p.mountGeneration(); !ok || gen != s.mounts {
			p.mu.Unlock()
			s.discard()
			return nil
		}
	}
	p.mu.Unlock()
	if s != nil && !s.alive() {
		s.discard()
		return nil
	}
	return s
}

// mountGeneration is the server's mount table generation (see mountWatch),
// watched from the first call on; ok is false when it cannot be told. Only
// spares with namespaces need it: the others share the server's table. The
// caller holds p.mu.
func (p *sparePool) mountGeneration() (gen uint64, ok bool) {
	if p.mounts == nil && !p.mountsFailed {
		if p.mounts = openMountWatch(); p.mounts == nil {
			p.mountsFailed = true
		}
	}
	if p.mounts == nil {
		return 0, false
	}
	return p.mounts.generation()
}

// startSpare starts a helper that waits for its activation: a pooled
// spare (arg spareArg) or one started for a call (startedArg), which is
// activated at once.
func (l *Launcher) startSpare(ns bool, arg string) (*spare, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("sandbox: control socket for a helper: %w", err)
	}
	child := os.NewFile(uintptr(fds[1]), "helper-control")
	defer child.Close()
	cmd, err := l.helperCommand(context.Background(), ns, arg)
	if err != nil {
		unix.Close(fds[0])
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	// None of the server's environment: the plan brings the call's.
	cmd.Env = []string{}
	// Until the activation gives it the call's files, what it has to
	// say (it failed to start) goes to the server's log stream.
	cmd.Stderr = os.Stderr
	// Given, so that os/exec does not open /dev/null twice for it.
	if null, err := devNull(); err == nil {
		cmd.Stdin, cmd.Stdout = null, null
	}
	cmd.ExtraFiles = []*os.File{child}
	if err := cmd.Start(); err != nil {
		unix.Close(fds[0])
		return nil, fmt.Errorf("sandbox: starting the sandbox launcher %s: %w", l.nsexec, err)
	}
	return &spare{cmd: cmd, ctl: fds[0]}, nil
}

// awaitReady waits for the spare's ready message.
func (s *spare) awaitReady() error {
	// Parked rather than in poll(2): see internal/parked.
	ready, err := parked.Readable(s.ctl, spareStartTimeout)
	if err != nil {
		return fmt.Errorf("sandbox: spare helper: %w", err)
	}
	if !ready {
		return errors.New("sandbox: spare helper did not start")
	}
	var b [2]byte
	n, _, _, _, err := unix.Recvmsg(s.ctl, b[:], nil, unix.MSG_DONTWAIT)
	if err != nil || n != 1 || b[0] != spareReady {
		return fmt.Errorf("sandbox: spare helper did not start (%d bytes, %v)", n, err)
	}
	return nil
}

// devNull is /dev/null, opened once for the life of the process: what a
// spare and a call without stdin get there. Opening it each time (as
// os/exec does for a nil Stdin) cost about five system calls each.
var devNull = sync.OnceValues(func() (*os.File, error) {
	return os.OpenFile(os.DevNull, os.O_RDWR, 0)
})

// alive reports whether the spare still waits: once it has exited its end
// of the control socket is closed, which shows here as a hang-up.
func (s *spare) alive() bool {
	revents, err := pollNow(s.ctl, unix.POLLOUT)
	return err == nil && revents&(unix.POLLHUP|unix.POLLERR) == 0
}

// discard ends an unused spare: closing the control socket makes it exit;
// it is killed as well in case it is stuck, and reaped in the background.
func (s *spare) discard() {
	unix.Close(s.ctl)
	_ = s.cmd.Process.Kill()
	go func() { _ = s.cmd.Wait() }()
}

// startCall hands the call to a spare of the kind h needs or, when none is
// ready, to a helper started for it and activated at once: the same code
// with the same confinement either way, only who started the helper
// differs. The returned command is running.
func (l *Launcher) startCall(ctx context.Context, h helperSpec, argv []string, p Proc) (*exec.Cmd, error) {
	files, err := activationFiles(p)
	if err != nil {
		return nil, err
	}
	if h.PidsCgroup != "" {
		procs, err := openCgroupProcs(h.PidsCgroup)
		if err != nil {
			return nil, err
		}
		defer unix.Close(procs)
		files = append([]int{procs}, files...)
	}
	if h.Mode != DangerFullAccess {
		ruleset, err := buildRuleset(&h)
		if err != nil {
			return nil, err
		}
		defer unix.Close(ruleset)
		files = append([]int{ruleset}, files...)
	}
	if h.Namespaces {
		if err := resolveMounts(&h); err != nil {
			return nil, err
		}
		if l.caps.MountAPIError != "" && !h.AllWritable {
			if h.MountPoints, err = mountPointsOutside(h.Writable); err != nil {
				return nil, err
			}
		}
	}
	memfd, err := activationFD(encodePlan(h, argv, p.Env, p.Dir))
	if err != nil {
		return nil, err
	}
	defer unix.Close(memfd)
	if s := l.takeSpare(h.Namespaces); s != nil {
		if sendActivation(s.ctl, memfd, files) == nil {
			return s.running(ctx, h, p), nil
		}
		// It died after takeSpare looked; nothing of the call ran.
		s.discard()
	}
	s, err := l.startSpare(h.Namespaces, startedArg)
	if err != nil {
		return nil, err
	}
	// Queued on the socket: the helper finds it once its runtime is up.
	if err := sendActivation(s.ctl, memfd, files); err != nil {
		s.discard()
		return nil, err
	}
	return s.running(ctx, h, p), nil
}

// running is the activated helper's command. When h asks for a kernel
// gate, the control socket stays open for the helper's report, which a
// goroutine waits for (parked) and hands to p.OnGate: the call does not
// wait for the helper's set-up, and the program's first program start
// waits for the listener's answer anyway. As with any helper, the end of
// ctx asks it to end the call.
func (s *spare) running(ctx context.Context, h helperSpec, p Proc) *exec.Cmd {
	cmd := s.cmd
	// Process.Signal is safe after Wait (it does not reach a reused pid).
	context.AfterFunc(ctx, func() { _ = cmd.Process.Signal(syscall.SIGTERM) })
	if !h.Gate {
		unix.Close(s.ctl)
		return cmd
	}
	go func(ctl int) {
		g := awaitGate(ctl)
		unix.Close(ctl)
		if p.OnGate != nil {
			p.OnGate(g)
		} else if g.Listener != nil {
			g.Listener.Close()
		}
	}(s.ctl)
	return cmd
}
