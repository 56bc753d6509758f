package escalate

import (
	"errors"
	"sync"

	"golang.org/x/sys/unix"
)

// errSessionOver is returned when an escalated command would start after the
// session's context ended.
var errSessionOver = errors.New("escalate: session is shutting down")

// process is one escalated command: the leader of its own process group
// (pgid == pid). Signals go to the whole group, and only while the group
// id is known to be ours: until the leader is reaped its zombie pins the id,
// and after that only if members were still alive when it was reaped.
type process struct {
	mu        sync.Mutex
	pid       int  // 0 until started
	killed    bool // the session ended: never start, kill if started
	reaped    bool
	lingering bool // reaped, but the group still had members
}

// signalGroup delivers sig to the process group. It reports false when
// there is no group to signal (not started, or gone).
func (p *process) signalGroup(sig unix.Signal) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.signalLocked(sig)
}

func (p *process) signalLocked(sig unix.Signal) bool {
	if p.pid == 0 || (p.reaped && !p.lingering) {
		return false
	}
	return unix.Kill(-p.pid, sig) == nil
}

// wait blocks until the leader exits, then reaps it under the lock, so
// signalGroup never races with the reuse of its pid.
func (p *process) wait() (unix.WaitStatus, error) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, p.pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err == nil {
			break
		}
		if err != unix.EINTR {
			return 0, p.lost(err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(p.pid, &ws, 0, nil)
		if err == nil {
			break
		}
		if err != unix.EINTR {
			p.reaped = true
			return 0, err
		}
	}
	p.reaped = true
	// Background members of the group outlive their leader; the session
	// kills them when it ends. If none is left the id is forgotten.
	p.lingering = unix.Kill(-p.pid, 0) == nil
	if p.lingering && p.killed {
		unix.Kill(-p.pid, unix.SIGKILL)
	}
	return ws, nil
}

// lost records that the leader cannot be waited for (ECHILD: something else
// in the process reaped it), so its id is never signalled again.
func (p *process) lost(err error) error {
	p.mu.Lock()
	p.reaped = true
	p.mu.Unlock()
	return err
}

// tracker holds every escalated process of a session until the session
// ends, then kills them all.
type tracker struct {
	mu     sync.Mutex
	closed bool
	procs  map[*process]struct{}
}

// add registers p; it fails once the session is over, so nothing new starts
// during or after killAll.
func (t *tracker) add(p *process) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return errSessionOver
	}
	if t.procs == nil {
		t.procs = make(map[*process]struct{})
	}
	t.procs[p] = struct{}{}
	return nil
}

// done forgets p unless its group still has members to kill later.
func (t *tracker) done(p *process) {
	p.mu.Lock()
	keep := p.lingering
	p.mu.Unlock()
	if keep {
		return
	}
	t.mu.Lock()
	delete(t.procs, p)
	t.mu.Unlock()
}

// killAll closes the tracker and sends SIGKILL to every tracked group.
// Leaders are reaped by the goroutines waiting on them; lingering members
// were orphaned to init, which reaps them.
func (t *tracker) killAll() {
	t.mu.Lock()
	t.closed = true
	procs := make([]*process, 0, len(t.procs))
	for p := range t.procs {
		procs = append(procs, p)
	}
	t.mu.Unlock()
	for _, p := range procs {
		p.mu.Lock()
		p.killed = true
		p.signalLocked(unix.SIGKILL)
		p.mu.Unlock()
	}
}
