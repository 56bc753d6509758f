package escalate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// forwardable lists the signals a wrapper may have delivered to an
// escalated process group; anything else a peer asks for is refused.
func forwardable(sig unix.Signal) bool {
	switch sig {
	case unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGWINCH:
		return true
	}
	return false
}

type waitResult struct {
	ws  unix.WaitStatus
	err error
}

// runEscalated runs e outside the sandbox with stdio as its fds 0, 1, 2 (and
// no other), env as its environment and wd as its working directory, in a
// process group of its own. While it runs, Forward frames from the wrapper
// are delivered to the group. It owns stdio and closes the server's copies.
func (s *Session) runEscalated(ctx context.Context, c *pollConn, e Exec, wd *workdir, env []string, stdio [3]int) (SuperExecResult, error) {
	p := &process{}
	if err := s.procs.add(p); err != nil {
		closeAll(stdio[:])
		return SuperExecResult{}, err
	}
	defer s.procs.done(p)

	started := make(chan error, 1)
	exited := make(chan waitResult, 1)
	go startAndWait(p, e, wd, env, stdio, started, exited)
	err := <-started
	if err != nil {
		defer closeAll(stdio[:])
		if errors.Is(err, errSessionOver) {
			return SuperExecResult{}, err
		}
		// Like a shell: 127 when the file is missing, 126 otherwise, with
		// the reason on the command's own stderr.
		code := 126
		if errnoOf(err) == unix.ENOENT {
			code = 127
		}
		tell(stdio[2], fmt.Sprintf("execgate: %s: %v\n", e.File, err))
		s.log.Debug("escalate: escalated command did not start", "file", e.File, "err", err)
		return SuperExecResult{ExitCode: code}, nil
	}
	closeAll(stdio[:])
	s.log.Debug("escalate: escalated command started", "file", e.File, "pid", p.pid, "stdio", stdio[:])

	fwd := make(chan struct{})
	go func() {
		defer close(fwd)
		s.forwardSignals(c, p, e.File)
	}()
	w := <-exited
	c.stopReading()
	<-fwd
	if w.err != nil {
		return SuperExecResult{}, fmt.Errorf("wait for pid %d: %w", p.pid, w.err)
	}
	res := resultOf(w.ws)
	s.log.Debug("escalate: escalated command ended", "file", e.File, "pid", p.pid,
		"exit_code", res.ExitCode, "signal", res.Signal, "session_over", ctx.Err() != nil)
	return res, nil
}

// startAndWait forks and execs the command, then waits for it. The
// goroutine keeps its OS thread for the child's whole life: Pdeathsig fires
// when the forking *thread* exits, and it must fire only when the server
// dies (so an escalated command never outlives the server).
func startAndWait(p *process, e Exec, wd *workdir, env []string, stdio [3]int, started chan<- error, exited chan<- waitResult) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	markAllCloseOnExec()
	p.mu.Lock()
	if p.killed {
		p.mu.Unlock()
		started <- errSessionOver
		return
	}
	// syscall.ForkExec rather than exec.Cmd: os.File.Fd would switch a
	// non-blocking descriptor to blocking, changing the file description
	// the sandboxed shell shares. ForkExec dup2s each fd onto its slot,
	// moving any that collide out of the way first, and everything else
	// the server holds is close-on-exec (markAllCloseOnExec).
	pid, err := syscall.ForkExec(e.File, e.Argv, &syscall.ProcAttr{
		Dir:   wd.chdir,
		Env:   env,
		Files: []uintptr{uintptr(stdio[0]), uintptr(stdio[1]), uintptr(stdio[2])},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	})
	if err == nil {
		p.pid = pid
	}
	p.mu.Unlock()
	started <- err
	if err != nil {
		return
	}
	ws, err := p.wait()
	exited <- waitResult{ws, err}
}

// forwardSignals reads Forward frames until the stream stops (the command
// ended, the session ended, or the peer left or misbehaved).
func (s *Session) forwardSignals(c *pollConn, p *process, file string) {
	for {
		payload, fds, err := readFrame(c)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return
		case errors.Is(err, ErrClosed):
			s.log.Debug("escalate: wrapper closed its stream while its command runs", "file", file)
			return
		case err != nil:
			s.log.Warn("escalate: bad frame while the escalated command runs", "file", file, "err", err)
			return
		}
		if len(fds) > 0 {
			closeAll(fds)
			s.log.Warn("escalate: Forward frame carried fds; closed them", "file", file, "fds", len(fds))
		}
		var f Forward
		if err := strictUnmarshal(payload, &f); err != nil {
			s.log.Warn("escalate: malformed Forward frame", "file", file, "frame", truncate(payload), "err", err)
			return
		}
		sig := unix.Signal(f.Signal)
		if !forwardable(sig) {
			s.log.Warn("escalate: refused to forward signal", "file", file, "signal", f.Signal)
			continue
		}
		if !p.signalGroup(sig) {
			s.log.Debug("escalate: forwarded signal found no process", "file", file, "signal", f.Signal)
		}
	}
}

func resultOf(ws unix.WaitStatus) SuperExecResult {
	if ws.Signaled() {
		n := int(ws.Signal())
		return SuperExecResult{ExitCode: 128 + n, Signal: n}
	}
	return SuperExecResult{ExitCode: ws.ExitStatus()}
}

// tell writes a short message to fd without ever blocking: fd belongs to
// the sandbox and may be a full pipe nobody reads.
func tell(fd int, msg string) {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	n, err := unix.Poll(pfd, 0)
	for err == unix.EINTR { // the Go runtime's preemption signal
		n, err = unix.Poll(pfd, 0)
	}
	if err != nil || n != 1 || pfd[0].Revents&unix.POLLOUT == 0 {
		return
	}
	if len(msg) > 1024 {
		msg = msg[:1020] + "...\n"
	}
	unix.Write(fd, []byte(msg))
}
