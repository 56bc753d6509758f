package escalate

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/execgate/execgate/internal/frame"
	"github.com/execgate/execgate/internal/parked"
	"golang.org/x/sys/unix"
)

// reaper is a session's handle on its reaper process (see ReaperMain).
type reaper struct {
	conn *pollConn
	proc *os.Process
	log  *slog.Logger

	wmu sync.Mutex // one frame at a time on conn

	mu     sync.Mutex
	nextID uint64
	cmds   map[uint64]*escalated

	// gone is closed once the reaper's socket reached end of file: the
	// reaper has killed its whole subtree and exited.
	gone chan struct{}
}

// escalated is one command started through the reaper.
type escalated struct {
	r   *reaper
	id  uint64
	end chan reaperMsg // "failed" or "exited"; buffered: the reader never blocks
}

// reaperExitTimeout bounds how long a session waits, when it ends, for its
// reaper to have killed everything below it.
const reaperExitTimeout = 5 * time.Second

// startReaper starts path as the reaper of one session.
func startReaper(path string, log *slog.Logger) (*reaper, error) {
	if path == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("escalate: locating the reaper (this executable): %w", err)
		}
		path = exe
	}
	p, err := frame.Socketpair(unix.SOCK_STREAM)
	if err != nil {
		return nil, fmt.Errorf("escalate: reaper socketpair: %w", err)
	}
	child := os.NewFile(uintptr(p[1]), "reaper-ctl")
	defer child.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		unix.Close(p[0])
		return nil, err
	}
	defer devnull.Close()
	// Descriptors the server inherited without close-on-exec would reach
	// the reaper, and from there every escalated command.
	markAllCloseOnExec()
	// No Pdeathsig: the reaper notices the server's death by its socket
	// reaching end of file, and then kills everything below it. Its stdio
	// is /dev/null, not the server's: the server's fds 0-2 may be anything
	// by now (a server started with them closed receives stdio there); the
	// reaper reports trouble over its socket.
	proc, err := os.StartProcess(path, []string{path, ReaperRole}, &os.ProcAttr{
		Env:   []string{},
		Files: []*os.File{devnull, devnull, devnull, child},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	if err != nil {
		unix.Close(p[0])
		return nil, fmt.Errorf("escalate: starting the reaper %s: %w", path, err)
	}
	conn, err := newPollConn(p[0], "reaper-ctl")
	if err != nil {
		proc.Kill()
		proc.Wait()
		return nil, err
	}
	r := &reaper{conn: conn, proc: proc, log: log, cmds: map[uint64]*escalated{}, gone: make(chan struct{})}
	go r.read()
	return r, nil
}

// read dispatches the reaper's frames until it exits, then reaps it.
func (r *reaper) read() {
	defer func() {
		r.conn.Close()
		// Parked until the reaper has exited, so that no server thread
		// sits in waitid meanwhile (see internal/parked).
		_ = parked.Exited(r.proc.Pid)
		r.proc.Wait()
		close(r.gone)
	}()
	for {
		payload, fds, err := frame.ReadConn(r.conn, nil)
		if err != nil {
			if !errors.Is(err, frame.ErrClosed) {
				r.log.Warn("escalate: reaper connection failed", "err", err)
			}
			return
		}
		frame.CloseAll(fds)
		var m reaperMsg
		if err := json.Unmarshal(payload, &m); err != nil {
			r.log.Warn("escalate: malformed frame from the reaper", "err", err)
			continue
		}
		if m.Op == "fatal" {
			r.log.Error("escalate: the reaper failed", "err", m.Msg)
			continue
		}
		r.mu.Lock()
		c := r.cmds[m.ID]
		delete(r.cmds, m.ID)
		r.mu.Unlock()
		if c != nil && (m.Op == "exited" || m.Op == "failed") {
			c.end <- m
		}
	}
}

// send writes one frame (with fds) to the reaper.
func (r *reaper) send(m reaperMsg, fds []int) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	r.wmu.Lock()
	defer r.wmu.Unlock()
	return frame.WriteConn(r.conn, b, fds)
}

// spawn has the reaper start path (name is the path the script asked
// for) in the directory wd with stdio as fds 0, 1 and 2; the reaper holds
// its own copies of them once this returns.
func (r *reaper) spawn(path, name string, argv, env []string, wd *workdir, stdio [3]int) (*escalated, error) {
	r.mu.Lock()
	r.nextID++
	c := &escalated{r: r, id: r.nextID, end: make(chan reaperMsg, 1)}
	r.cmds[c.id] = c
	r.mu.Unlock()
	err := r.send(reaperMsg{Op: "spawn", ID: c.id, Path: path, Name: name, Argv: argv, Env: env, Dir: wd.Path},
		[]int{stdio[0], stdio[1], stdio[2], wd.Fd()})
	if err != nil {
		r.forget(c)
		return nil, errSessionOver
	}
	return c, nil
}

func (r *reaper) forget(c *escalated) {
	r.mu.Lock()
	delete(r.cmds, c.id)
	r.mu.Unlock()
}

// signal forwards sig to the command's process group.
func (c *escalated) signal(sig unix.Signal) error {
	return c.r.send(reaperMsg{Op: "signal", ID: c.id, Signal: int(sig)}, nil)
}

// wait returns the command's wait status and pid, or the errno of its
// failed start. A command still running when the reaper ends (the session
// ended) was killed with SIGKILL.
func (c *escalated) wait() (ws unix.WaitStatus, pid int, err error) {
	var m reaperMsg
	select {
	case m = <-c.end:
	case <-c.r.gone:
		select {
		case m = <-c.end:
		default:
			c.r.forget(c)
			return unix.WaitStatus(unix.SIGKILL), 0, nil
		}
	}
	if m.Op == "failed" {
		return 0, 0, unix.Errno(m.Errno)
	}
	return unix.WaitStatus(m.Status), m.Pid, nil
}

// exited reports whether the reaper has exited.
func (r *reaper) exited() bool {
	select {
	case <-r.gone:
		return true
	default:
		return false
	}
}

// end tells the reaper the call is over: it kills everything below it and
// exits. end waits for that, at most reaperExitTimeout.
func (r *reaper) end() {
	r.conn.shutdownWrite()
	select {
	case <-r.gone:
	case <-time.After(reaperExitTimeout):
		r.log.Warn("escalate: the reaper has not finished killing the call's escalated processes", "pid", r.proc.Pid, "waited", reaperExitTimeout)
	}
}
