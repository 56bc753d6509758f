package escalate

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/execgate/execgate/internal/frame"
	"golang.org/x/sys/unix"
)

// errSessionOver is returned when an escalated command would start after the
// session's context ended.
var errSessionOver = errors.New("escalate: session is shutting down")

// forwardable lists the signals a wrapper may have delivered to an
// escalated process group; anything else a peer asks for is refused.
func forwardable(sig unix.Signal) bool {
	switch sig {
	case unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGWINCH:
		return true
	}
	return false
}

// launch is what an escalation runs, checked before Escalate is answered:
// the resolved program (never the request's path), the argv it gets (argv[0]
// the name the rule matched) and the pinned workdir. It holds one of the
// session's escalation slots until released.
type launch struct {
	path     string
	argv     []string
	wd       *workdir
	s        *Session
	released bool
}

// prepareEscalation checks what e would run under d. An error is either a
// reason to deny (the program or workdir is unusable) or a *limitError.
func (s *Session) prepareEscalation(e Exec, d Decision) (*launch, error) {
	path, err := e.Program()
	if err != nil {
		return nil, err
	}
	wd, err := openWorkdir(e.Workdir, s.opts.WritableRoots)
	if err != nil {
		return nil, err
	}
	if err := s.bounds.takeEscalation(); err != nil {
		wd.Close()
		return nil, err
	}
	argv := append([]string{d.argv0(e)}, e.Argv[1:]...)
	return &launch{path: path, argv: argv, wd: wd, s: s}, nil
}

// release gives the slot back; only the first call does anything.
func (l *launch) release() {
	if l.released {
		return
	}
	l.released = true
	l.wd.Close()
	l.s.bounds.giveEscalation()
}

// runEscalated runs l outside the sandbox through the session's reaper, with
// stdio as its fds 0, 1, 2 (and no other), env as its environment, in a
// process group of its own. While it runs, Forward frames from the wrapper
// are delivered to the group. It owns stdio and closes the server's copies.
func (s *Session) runEscalated(ctx context.Context, c *pollConn, e Exec, l *launch, env []string, stdio [3]int) (SuperExecResult, error) {
	// stdio as received: the numbers say whether they collided with 0-2.
	s.log.Debug("escalate: starting escalated command", "file", e.File, "program", l.path, "stdio", stdio[:])
	r, err := s.startedReaper()
	var cmd *escalated
	if err == nil {
		cmd, err = r.spawn(l.path, e.File, l.argv, env, l.wd, stdio)
	}
	if err != nil {
		defer frame.CloseAll(stdio[:])
		if errors.Is(err, errSessionOver) {
			return SuperExecResult{}, err
		}
		tell(stdio[2], fmt.Sprintf("execgate: %s: %v\n", e.File, err))
		return SuperExecResult{ExitCode: 126}, nil
	}
	frame.CloseAll(stdio[:]) // the reaper has its own copies

	fwd := make(chan struct{})
	go func() {
		defer close(fwd)
		s.forwardSignals(c, cmd, e.File)
	}()
	ws, pid, err := cmd.wait()
	c.stopReading()
	<-fwd
	if err != nil {
		// Like a shell: 127 when the file is missing, 126 otherwise; the
		// reaper told the command's stderr why.
		s.log.Debug("escalate: escalated command did not start", "file", e.File, "program", l.path, "err", err)
		if errnoOf(err) == unix.ENOENT {
			return SuperExecResult{ExitCode: 127}, nil
		}
		return SuperExecResult{ExitCode: 126}, nil
	}
	res := resultOf(ws)
	s.log.Debug("escalate: escalated command ended", "file", e.File, "pid", pid,
		"exit_code", res.ExitCode, "signal", res.Signal, "session_over", ctx.Err() != nil)
	return res, nil
}

// forwardSignals reads Forward frames until the stream stops (the command
// ended, the session ended, or the peer left or misbehaved).
func (s *Session) forwardSignals(c *pollConn, cmd *escalated, file string) {
	for {
		payload, fds, err := frame.ReadConn(c, nil)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return
		case errors.Is(err, frame.ErrClosed):
			s.log.Debug("escalate: wrapper closed its stream while its command runs", "file", file)
			return
		case err != nil:
			s.problem("bad frame while the escalated command runs", err, "file", file)
			return
		}
		if len(fds) > 0 {
			frame.CloseAll(fds)
			s.problem("Forward frame carried fds; closed them", nil, "file", file, "fds", len(fds))
		}
		var f Forward
		if err := strictUnmarshal(payload, &f); err != nil {
			s.problem("malformed Forward frame", err, "file", file, "frame", truncate(payload))
			return
		}
		sig := unix.Signal(f.Signal)
		if !forwardable(sig) {
			s.problem("refused to forward signal", nil, "file", file, "signal", f.Signal)
			continue
		}
		if err := cmd.signal(sig); err != nil {
			s.log.Debug("escalate: could not forward a signal", "file", file, "signal", f.Signal, "err", err)
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
