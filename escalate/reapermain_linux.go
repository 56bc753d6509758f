package escalate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// ReaperRole is the argument that makes the execgate binary (or the lean
// one) play the per-call reaper: `execgate escalate-reaper`.
const ReaperRole = "escalate-reaper"

// The reaper is a small process a session starts at its first escalation:
// it forks and execs every escalated command of the call and is their child
// subreaper, so whatever they start, double-forked and setsid'd daemons
// included, stays below it, orphans reparented to it. When the call ends
// (the server shuts its socket down) or the server dies (the socket reaches
// end of file), it kills its whole subtree and exits. A process per call,
// rather than the server as subreaper, tells the calls' processes apart
// when several calls run at once, and keeps the server's own children
// (sandbox helpers, run by os/exec) out of a reaping loop.
//
// Frames on its socket (fd 3) use the protocol's framing, with reaperMsg
// as JSON:
//
//	server -> reaper  spawn   id path argv env  + fds stdin stdout stderr workdir
//	                  signal  id signal         (to the command's process group)
//	reaper -> server  started id pid | failed id errno | exited id status
//	                  fatal msg (the reaper cannot work and exits)

// reaperMsg is one frame between a session and its reaper.
type reaperMsg struct {
	Op     string   `json:"op"`
	ID     uint64   `json:"id"`
	Path   string   `json:"path,omitempty"`
	Argv   []string `json:"argv,omitempty"`
	Env    []string `json:"env,omitempty"`
	Dir    string   `json:"dir,omitempty"` // the workdir's resolved path, if /proc is missing
	Signal int      `json:"signal,omitempty"`
	Pid    int      `json:"pid,omitempty"`
	Errno  int      `json:"errno,omitempty"`
	Status int      `json:"status,omitempty"` // wait status
	Msg    string   `json:"msg,omitempty"`    // why the reaper failed ("fatal")
}

const reaperCtl = 3

// ReaperMain runs the reaper role (see above) and returns its exit status.
// It is started by a Session, not by hand.
func ReaperMain(args []string) int {
	if len(args) != 0 {
		fmt.Fprintf(os.Stderr, "execgate %s: started by the execgate server, takes no arguments\n", ReaperRole)
		return 2
	}
	// Every command is forked from this thread, which lives as long as the
	// process: their Pdeathsig fires only if the reaper itself dies.
	runtime.LockOSThread()
	if _, err := unix.FcntlInt(reaperCtl, unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
		fmt.Fprintf(os.Stderr, "execgate %s: fd %d: %v\n", ReaperRole, reaperCtl, err)
		return 1
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fatal("PR_SET_CHILD_SUBREAPER: " + err.Error())
		return 1
	}
	markAllCloseOnExec()
	r := &reaperProc{self: os.Getpid(), groups: map[uint64]*group{}, leaders: map[int]*group{}, kick: make(chan struct{}, 1)}
	go r.reapChildren()
	for {
		payload, fds, err := ReadFrame(reaperCtl)
		if err != nil {
			break // the call is over, or the server is gone
		}
		var m reaperMsg
		if err := json.Unmarshal(payload, &m); err != nil {
			closeAll(fds)
			continue
		}
		switch m.Op {
		case "spawn":
			r.spawn(m, fds)
		case "signal":
			closeAll(fds)
			r.signal(m)
		default:
			closeAll(fds)
		}
	}
	r.killSubtree()
	return 0
}

// group is one escalated command: the leader of its own process group.
type group struct {
	id        uint64
	pgid      int
	reaped    bool
	lingering bool // reaped while the group still had members
}

type reaperProc struct {
	self int
	kick chan struct{} // a command started: there is a child to wait for

	mu      sync.Mutex // guards the maps and sends on reaperCtl
	groups  map[uint64]*group
	leaders map[int]*group // by pid, until reaped
}

// fatal reports why the reaper cannot work.
func fatal(msg string) {
	b, _ := json.Marshal(reaperMsg{Op: "fatal", Msg: msg})
	WriteFrame(reaperCtl, b, nil)
}

// send writes m to the server; the caller holds r.mu. A failed send means
// the server is gone, which the main loop sees too.
func (r *reaperProc) send(m reaperMsg) {
	b, _ := json.Marshal(m)
	WriteFrame(reaperCtl, b, nil)
}

func (r *reaperProc) spawn(m reaperMsg, fds []int) {
	defer closeAll(fds)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(fds) != 4 || len(m.Argv) == 0 {
		r.send(reaperMsg{Op: "failed", ID: m.ID, Errno: int(unix.EINVAL)})
		return
	}
	// chdir into the pinned directory through its descriptor; the child
	// holds it until exec closes it.
	dir := "/proc/self/fd/" + strconv.Itoa(fds[3])
	if unix.Access(dir, unix.X_OK) != nil && m.Dir != "" {
		dir = m.Dir
	}
	// syscall.ForkExec dup2s each fd onto its slot (moving any that collide
	// out of the way first); everything else this process holds is
	// close-on-exec.
	pid, err := syscall.ForkExec(m.Path, m.Argv, &syscall.ProcAttr{
		Dir:   dir,
		Env:   m.Env,
		Files: []uintptr{uintptr(fds[0]), uintptr(fds[1]), uintptr(fds[2])},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		r.send(reaperMsg{Op: "failed", ID: m.ID, Errno: int(errnoOf(err))})
		return
	}
	g := &group{id: m.ID, pgid: pid}
	r.groups[m.ID] = g
	r.leaders[pid] = g
	// Sent under r.mu, so it always precedes the command's "exited".
	r.send(reaperMsg{Op: "started", ID: m.ID, Pid: pid})
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// signal delivers a forwarded signal to a command's process group, only
// while the group id is known to be the command's: until its leader is
// reaped the zombie pins the id, and after that only if members were still
// alive when it was reaped.
func (r *reaperProc) signal(m reaperMsg) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.groups[m.ID]
	if g == nil || (g.reaped && !g.lingering) || !forwardable(unix.Signal(m.Signal)) {
		return
	}
	unix.Kill(-g.pgid, unix.Signal(m.Signal))
}

// reapChildren waits for every child: the commands (whose end it reports)
// and the orphans reparented here.
func (r *reaperProc) reapChildren() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.ECHILD:
			<-r.kick
			continue
		case err != nil:
			r.mu.Lock()
			r.send(reaperMsg{Op: "fatal", Msg: "wait: " + err.Error()})
			r.mu.Unlock()
			return
		}
		r.mu.Lock()
		if g := r.leaders[pid]; g != nil {
			delete(r.leaders, pid)
			g.reaped = true
			g.lingering = unix.Kill(-pid, 0) == nil
			if !g.lingering {
				delete(r.groups, g.id)
			}
			r.send(reaperMsg{Op: "exited", ID: g.id, Status: int(ws)})
		}
		r.mu.Unlock()
	}
}

// killSubtree kills every process below the reaper. Killing a child
// reparents its children here, so rounds repeat until none is left; a
// killed process cannot fork any more, so the rounds end.
func (r *reaperProc) killSubtree() {
	for {
		kids := childrenOf(r.self)
		if len(kids) == 0 {
			return
		}
		for _, pid := range kids {
			unix.Kill(pid, unix.SIGKILL)
		}
		for _, pid := range kids {
			// Reap it here, or find it reaped by reapChildren (ECHILD).
			for {
				_, err := unix.Wait4(pid, nil, 0, nil)
				if err != unix.EINTR {
					break
				}
			}
		}
	}
}

// childrenOf lists the children of process pid (every thread's).
func childrenOf(pid int) []int {
	files, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	if len(files) == 0 {
		return childrenByScan(pid)
	}
	var kids []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				kids = append(kids, n)
			}
		}
	}
	return kids
}

// childrenByScan finds pid's children from every process's parent, for
// kernels without /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN).
func childrenByScan(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var kids []int
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// After the command name's last ')': state ppid ...
		i := strings.LastIndexByte(string(stat), ')')
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			kids = append(kids, n)
		}
	}
	return kids
}
