package escalate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/execgate/execgate/internal/frame"
	"golang.org/x/sys/unix"
)

// Session is the server side of the protocol for one sandboxed shell: it
// owns a datagram socketpair, hands one end to the shell, and answers every
// exec that arrives on the other end until its context ends. Escalated
// commands run below the session's reaper (started at the first one, see
// ReaperMain); when the session ends, the reaper kills them and everything
// they started.
type Session struct {
	decider  Decider
	opts     Options
	log      *slog.Logger
	server   *pollConn
	bounds   *bounds
	problems problems
	refused  refusals

	mu     sync.Mutex
	child  *os.File // nil once closed
	served bool

	rmu    sync.Mutex
	reap   *reaper // nil until the first escalation
	ending bool    // no reaper may start any more
}

// NewSession creates the datagram socketpair. Both ends are close-on-exec;
// pass ChildFile to the shell as exec.Cmd.ExtraFiles[0] (the child sees it
// as fd 3, without close-on-exec) and call CloseChild once it has started.
//
// NewSession (and every escalation) marks all descriptors from 3 up in this
// process close-on-exec: the ones the server inherited from its own parent
// would otherwise leak into the shell and into escalated commands.
func NewSession(d Decider, opts Options) (*Session, error) {
	if d == nil {
		return nil, errors.New("escalate: NewSession needs a Decider")
	}
	// Descriptors this process inherited without close-on-exec would reach
	// the shell too; see markAllCloseOnExec.
	markAllCloseOnExec()
	// Seqpacket, not datagram: the wrappers use it the same way, but a
	// seqpacket socket ignores a destination address, where a datagram
	// one would let the sandboxed code sendmsg to any pathname datagram
	// socket of the host (/dev/log, journald); the sandbox's seccomp
	// filter refuses new datagram sockets for the same reason.
	p, err := frame.Socketpair(unix.SOCK_SEQPACKET)
	if err != nil {
		return nil, fmt.Errorf("escalate: seqpacket socketpair: %w", err)
	}
	server, err := newPollConn(p[0], "escalate-server")
	if err != nil {
		unix.Close(p[1])
		return nil, err
	}
	log := opts.logger()
	return &Session{
		decider:  d,
		opts:     opts,
		log:      log,
		server:   server,
		bounds:   newBounds(opts.Limits),
		problems: problems{log: log},
		child:    os.NewFile(uintptr(p[1]), "escalate-child"),
	}, nil
}

// ChildFile is the shell's end of the datagram socket, or nil after
// CloseChild. It stays blocking: the sandboxed processes share its file
// description, and the wrapper reads it with plain recvmsg.
func (s *Session) ChildFile() *os.File {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.child
}

// CloseChild closes the parent's copy of the child's end. Call it once the
// shell has started: until then the socket is never "unused", and a leaked
// copy would let later children of the server reach this session.
func (s *Session) CloseChild() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.child == nil {
		return nil
	}
	err := s.child.Close()
	s.child = nil
	return err
}

// Close releases both ends without serving; for a session whose Serve was
// never called (Serve closes the server end itself when it returns).
func (s *Session) Close() error {
	err := s.CloseChild()
	s.mu.Lock()
	served := s.served
	s.served = true
	s.mu.Unlock()
	if !served {
		if cerr := s.server.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Serve answers execs until ctx ends. An exec is served on the goroutine
// that accepted it for as long as nothing has to wait (its request is
// there, the Decider answers at once, the answer is Run or Deny): most are,
// and a goroutine handoff costs more than such an exec. The moment one has
// to wait (the rest of its request, a prompt: see Waiting, an escalated
// command), accepting moves to a new goroutine, so a slow exec delays only
// itself. A peer that breaks the protocol is dropped and the session keeps
// serving (the first such problem is logged, the others counted and summed
// up at the end); an exec beyond the session's or the server's bounds gets
// an error answer. When ctx ends Serve stops accepting, has the reaper kill
// every escalated process and all their descendants, waits for every
// exec's goroutine (the Decider must honour ctx) and for the reaper to be
// done, then returns nil. It returns an error only if the socket itself
// fails.
func (s *Session) Serve(ctx context.Context) error {
	s.mu.Lock()
	if s.served {
		s.mu.Unlock()
		return errors.New("escalate: Serve called twice or after Close")
	}
	s.served = true
	s.mu.Unlock()
	defer s.server.Close()
	// Ending for any reason (a failed socket included) ends every exec.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	stop := context.AfterFunc(ctx, s.server.stopReading)
	defer stop()

	var wg sync.WaitGroup
	ended := make(chan error, 1)
	go s.accept(ctx, &wg, ended)
	serveErr := <-ended
	cancel()
	s.endReaper()
	wg.Wait()
	s.problems.summary()
	return serveErr
}

// accept takes the shell's handshakes and serves each exec in turn, until
// the socket ends (it then sends why on ended: nil for the session's end)
// or an exec has to wait: it then starts a new accept goroutine, finishes
// that exec as one of wg's, and returns.
func (s *Session) accept(ctx context.Context, wg *sync.WaitGroup, ended chan<- error) {
	for {
		fd, err := receiveHandshake(s.server)
		if err != nil {
			if ctx.Err() != nil {
				ended <- nil
				return
			}
			if s.server.hungUp() {
				// Every copy of the shell's end is closed: no
				// handshake can come, and reads would only return
				// end of file. The call's end stops the session.
				<-ctx.Done()
				ended <- nil
				return
			}
			if fatalSocketError(err) {
				ended <- fmt.Errorf("escalate: datagram socket: %w", err)
				return
			}
			s.problem("rejected handshake", err)
			continue
		}
		if err := s.bounds.takeStream(); err != nil {
			s.problem("refused an exec stream", err)
			s.refuse(ctx, fd, err, wg)
			continue
		}
		var handedOff atomic.Bool
		conn := newLazyConn(fd, "escalate-stream", func() {
			handedOff.Store(true)
			wg.Add(1)
			go s.accept(ctx, wg, ended)
		})
		s.handle(ctx, conn)
		s.bounds.giveStream()
		if handedOff.Load() {
			wg.Done()
			return
		}
	}
}

// refuse answers a stream the session will not serve with an error frame
// (never blocking: the frame fits the empty socket buffer) and closes it.
// The wrapper may not have sent its request yet, and closing first would
// fail its write (EPIPE, an unclear message), so the stream is kept until
// the request arrives or the wrapper hangs up, at most refuseLinger. Only
// callRefusing refused streams are kept: a new one evicts the oldest, so a
// flood of refused streams cannot keep the next wrapper from its answer.
func (s *Session) refuse(ctx context.Context, fd int, reason error, wg *sync.WaitGroup) {
	c, err := newPollConn(fd, "escalate-refused")
	if err != nil {
		return
	}
	b, _ := (&serverError{Msg: reason.Error()}).MarshalJSON()
	if frame.WriteConn(c, b, nil) != nil {
		c.Close()
		return
	}
	// Before add: an eviction's stopReading must not be undone.
	c.readUntil(time.Now().Add(refuseLinger))
	s.refused.add(c)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer c.Close()
		defer s.refused.remove(c)
		stop := context.AfterFunc(ctx, c.stopReading)
		defer stop()
		c.waitHangup()
	}()
}

// refusals are the refused streams a session keeps for a moment.
type refusals struct {
	mu    sync.Mutex
	conns []*pollConn
}

// add keeps c, stopping the oldest kept stream if there are too many.
func (r *refusals) add(c *pollConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.conns) >= callRefusing {
		r.conns[0].stopReading()
		r.conns = r.conns[1:]
	}
	r.conns = append(r.conns, c)
}

func (r *refusals) remove(c *pollConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i := slices.Index(r.conns, c); i >= 0 {
		r.conns = slices.Delete(r.conns, i, i+1)
	}
}

// refuseLinger bounds how long a refused stream waits for its request.
const refuseLinger = time.Second

// startedReaper returns the session's reaper, starting it on first use.
func (s *Session) startedReaper() (*reaper, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if s.ending {
		return nil, errSessionOver
	}
	if s.reap != nil && s.reap.exited() {
		// Killed from outside (it never exits on its own during a call):
		// its commands were killed with it; later ones get a new reaper.
		s.log.Warn("escalate: the reaper died during the call; starting another", "pid", s.reap.proc.Pid)
		s.reap = nil
	}
	if s.reap == nil {
		r, err := startReaper(s.opts.Reaper, s.log)
		if err != nil {
			s.log.Error("escalate: cannot start the reaper; escalated commands fail", "err", err)
			return nil, err
		}
		s.reap = r
	}
	return s.reap, nil
}

// endReaper stops reapers from starting and has the running one, if any,
// kill everything below it.
func (s *Session) endReaper() {
	s.rmu.Lock()
	s.ending = true
	r := s.reap
	s.rmu.Unlock()
	if r != nil {
		r.end()
	}
}

// fatalSocketError tells a broken socket from a malformed datagram: the
// former would fail again on every call.
func fatalSocketError(err error) bool {
	if errors.Is(err, os.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var errno unix.Errno
	return errors.As(err, &errno) && (errno == unix.EBADF || errno == unix.ENOTSOCK)
}
