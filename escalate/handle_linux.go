package escalate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/execgate/execgate/internal/frame"
	"golang.org/x/sys/unix"
)

// handle serves one exec on its private stream: request, decision, answer,
// and for Escalate the command's run. Protocol errors end the exec (the
// wrapper then fails closed) and are counted; they never end the session.
func (s *Session) handle(ctx context.Context, c *pollConn) {
	defer c.Close()
	stop := context.AfterFunc(ctx, c.stopReading)
	defer stop()
	file, err := s.serveExec(ctx, c)
	if err == nil {
		return
	}
	attrs := []any{}
	if file != "" {
		attrs = append(attrs, "file", file)
	}
	if ctx.Err() != nil || errors.Is(err, errPeerGone) {
		s.log.Debug("escalate: exec abandoned", append(attrs, "err", err)...)
		return
	}
	s.problem("exec failed", err, attrs...)
}

// serveExec returns the exec's file (once known) for the log.
func (s *Session) serveExec(ctx context.Context, c *pollConn) (string, error) {
	payload, fds, err := frame.ReadConn(c, s.bounds)
	if err != nil {
		var tooLarge *frame.TooLargeError
		var limit *limitError
		if errors.As(err, &tooLarge) || errors.As(err, &limit) {
			s.answerError(c, err)
		}
		return "", fmt.Errorf("read request: %w", err)
	}
	req, err := decodeRequest(payload, fds)
	s.bounds.GiveBytes(len(payload))
	if err != nil {
		return req.File, err
	}
	e, invalid := s.resolveRequest(&req)
	e.Env = s.opts.env().FromShell(req.Env)
	e.Pid = c.peerPid()
	var d Decision
	if invalid != "" {
		d = Decision{Action: Deny, Reason: "invalid request: " + invalid}
		s.problem("invalid request", nil, "file", req.File, "reason", invalid)
	} else {
		d, err = s.decideWatching(ctx, c, e)
		if err != nil {
			return e.File, err
		}
	}

	// What an escalation runs is checked (and its workdir pinned) before
	// Escalate is promised, so a bad one is a Deny the shell can print
	// rather than a failed run.
	rec := Record{Exec: e, Decision: d}
	var l *launch
	if d.Action == Escalate {
		// The command may run for hours: later execs are accepted
		// elsewhere from here on.
		c.detach()
		l, err = s.prepareEscalation(e, d)
		var limit *limitError
		switch {
		case errors.As(err, &limit):
			rec.Decision = d.denied(err.Error())
			s.record(rec)
			s.answerError(c, err)
			s.problem("refused an escalation", err, "file", e.File)
			return e.File, nil
		case err != nil:
			d = d.denied(err.Error())
			rec.Decision = d
		default:
			defer l.release()
			rec.Program, rec.Argv = l.path, l.argv
		}
	}
	s.record(rec)
	resp := Response{Action: d.Action}
	switch d.Action {
	case Deny:
		resp.Reason = d.Reason
	case Run:
		resp.Note = d.Note
	}
	b, err := resp.MarshalJSON()
	if err != nil {
		return e.File, err
	}
	if err := frame.WriteConn(c, b, nil); err != nil {
		return e.File, fmt.Errorf("send %s answer: %w", d.Action, err)
	}
	if d.Action != Escalate {
		return e.File, nil
	}

	stdio, err := readSuperExec(c)
	if err != nil {
		return e.File, err
	}
	res, err := s.runEscalated(ctx, c, e, l, setEnv(s.opts.env().Environ(e.Env), d.Env), stdio)
	// The command has ended: its slot is free before the wrapper hears
	// so, or the shell's next escalation could find it still taken.
	l.release()
	if err != nil {
		return e.File, err
	}
	b, err = json.Marshal(res)
	if err != nil {
		return e.File, err
	}
	if err := frame.WriteConn(c, b, nil); err != nil {
		return e.File, fmt.Errorf("send result %s: %w", b, err)
	}
	return e.File, nil
}

// decodeRequest decodes a request frame.
func decodeRequest(payload []byte, fds []int) (Request, error) {
	var req Request
	if len(fds) > 0 {
		frame.CloseAll(fds)
		return req, fmt.Errorf("request carried %d fds, want none", len(fds))
	}
	if err := strictUnmarshal(payload, &req); err != nil {
		// Not the payload itself in the log: its env may hold secrets. The
		// file, if a lenient decode finds it, says which exec it was.
		var named struct{ File string }
		json.Unmarshal(payload, &named)
		return Request{File: named.File}, fmt.Errorf("malformed request: %w", err)
	}
	return req, nil
}

// answerError sends the error answer (see serverError) for an exec the
// session will not decide.
func (s *Session) answerError(c *pollConn, err error) {
	b, _ := (&serverError{Msg: err.Error()}).MarshalJSON()
	frame.WriteConn(c, b, nil)
}

// resolveRequest turns a request into the Exec the Decider sees, or says
// why it is unusable.
func (s *Session) resolveRequest(req *Request) (Exec, string) {
	e, invalid := resolveRequest(req)
	e.prog = &program{roots: s.opts.WritableRoots}
	return e, invalid
}

func resolveRequest(req *Request) (Exec, string) {
	e := Exec{File: req.File, Argv: req.Argv, Workdir: req.Workdir}
	switch {
	case req.File == "":
		return e, "empty file"
	case len(req.Argv) == 0:
		return e, "empty argv"
	case !filepath.IsAbs(req.Workdir):
		return e, fmt.Sprintf("workdir %q is not absolute", req.Workdir)
	case strings.ContainsRune(req.File, 0) || strings.ContainsRune(req.Workdir, 0) ||
		slices.ContainsFunc(req.Argv, func(a string) bool { return strings.ContainsRune(a, 0) }):
		return e, "NUL byte in file, argv or workdir"
	}
	if !filepath.IsAbs(e.File) {
		e.File = filepath.Join(req.Workdir, e.File)
	} else {
		e.File = filepath.Clean(e.File)
	}
	return e, ""
}

// errPeerGone: the wrapper hung up before its answer (killed, timed out).
var errPeerGone = errors.New("wrapper hung up before its answer")

// decideWatching asks the Decider with a context that, once the Decider
// says it is Waiting, also ends if the wrapper hangs up meanwhile, so a
// prompt about an exec nobody waits for any more is withdrawn.
func (s *Session) decideWatching(ctx context.Context, c *pollConn, e Exec) (Decision, error) {
	dctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	w := &waiting{c: c, cancel: cancel}
	d := s.decide(context.WithValue(dctx, waitingKey{}, w), e)
	w.once.Do(func() {}) // a late Waiting does nothing; w.watched is settled
	if w.watched != nil {
		c.stopReading()
		<-w.watched
		c.resumeReading(ctx)
	}
	if errors.Is(context.Cause(dctx), errPeerGone) {
		return d, errPeerGone
	}
	return d, nil
}

// waiting is one decision's Waiting state.
type waiting struct {
	c       *pollConn
	cancel  context.CancelCauseFunc
	once    sync.Once
	watched chan struct{} // closed when the hangup watch ends; nil if never started
}

func (w *waiting) start() {
	w.once.Do(func() {
		w.c.detach() // accepting moves to another goroutine (see accept)
		w.watched = make(chan struct{})
		go func() {
			defer close(w.watched)
			if w.c.waitHangup() {
				w.cancel(errPeerGone)
			}
		}()
	})
}

// decide asks the Decider, failing closed if it panics or answers nonsense:
// the Decider is the caller's code and the session must outlive its bugs.
func (s *Session) decide(ctx context.Context, e Exec) (d Decision) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("escalate: Decider panicked", "file", e.File, "panic", r, "stack", string(debug.Stack()))
			d = Decision{Action: Deny, Reason: "internal error in the exec policy"}
		}
	}()
	d = s.decider.Decide(ctx, e)
	switch d.Action {
	case Run, Escalate, Deny:
	default:
		s.log.Error("escalate: Decider returned an unknown action", "file", e.File, "action", d.Action)
		return Decision{Action: Deny, Reason: "internal error in the exec policy"}
	}
	if bad := invalidEnv(d.Env); bad != "" {
		s.log.Error("escalate: Decider set an invalid environment entry", "file", e.File, "entry", bad)
		return Decision{Action: Deny, Reason: "internal error in the exec policy"}
	}
	return d
}

func (s *Session) record(r Record) {
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug("escalate: decision", "file", r.Exec.File, "argv", r.Exec.Argv,
			"workdir", r.Exec.Workdir, "action", r.Decision.Action.String(), "reason", r.Decision.Reason,
			"program", r.Program)
	}
	if s.opts.OnDecision == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("escalate: OnDecision panicked", "file", r.Exec.File, "panic", p, "stack", string(debug.Stack()))
		}
	}()
	s.opts.OnDecision(r)
}

// readSuperExec reads the frame that follows Escalate: exactly three fds,
// mapped onto 0, 1 and 2 in that order. Anything else is refused (and the
// fds closed): an escalated command gets exactly the stdio it was given.
func readSuperExec(c *pollConn) ([3]int, error) {
	var stdio [3]int
	payload, fds, err := frame.ReadConn(c, nil)
	if err != nil {
		return stdio, fmt.Errorf("read SuperExec: %w", err)
	}
	var msg SuperExec
	err = strictUnmarshal(payload, &msg)
	switch {
	case err != nil:
		err = fmt.Errorf("malformed SuperExec %s: %w", truncate(payload), err)
	case len(fds) != 3:
		err = fmt.Errorf("SuperExec carried %d fds, want 3", len(fds))
	case !slices.Equal(msg.Fds, []int{0, 1, 2}):
		err = fmt.Errorf("SuperExec maps fds onto %v, want [0 1 2]", msg.Fds)
	}
	if err != nil {
		frame.CloseAll(fds)
		return stdio, err
	}
	copy(stdio[:], fds)
	return stdio, nil
}

// errnoOf extracts the errno of a failed start, for the 126/127 choice.
func errnoOf(err error) unix.Errno {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return 0
}
