package escalate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/execgate/execgate/internal/frame"
	"golang.org/x/sys/unix"
)

// ReaperRole is the argument that makes the execgate binary play the
// per-call reaper: `execgate escalate-reaper`.
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
//	server -> reaper  spawn   id path name argv env dir + fds stdin stdout stderr workdir
//	                  signal  id signal         (to the command's process group)
//	reaper -> server  failed id errno           (the command did not start)
//	                  exited id pid status      (it ended)
//	                  fatal msg                 (the reaper cannot work and exits)

// reaperMsg is one frame between a session and its reaper.
type reaperMsg struct {
	Op     string   `json:"op"`
	ID     uint64   `json:"id"`
	Path   string   `json:"path,omitempty"`
	Name   string   `json:"name,omitempty"` // the path the script asked for, for messages
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
//
// It is one thread waiting in poll(2) on its socket and on a pidfd per
// running command, so a spawn or an exit costs a few system calls and no
// hand-off between threads.
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
		send(reaperMsg{Op: "fatal", Msg: "PR_SET_CHILD_SUBREAPER: " + err.Error()})
		return 1
	}
	markAllCloseOnExec()
	r := &reaperProc{self: os.Getpid(), groups: map[uint64]*group{}, leaders: map[int]*group{}}
	r.serve()
	r.killSubtree()
	return 0
}

// orphanReapInterval bounds how long an orphan reparented to the reaper
// stays a zombie when nothing else wakes it; pollFallback is the wait
// while a command runs whose end cannot be polled (no pidfd: before Linux
// 5.3).
const (
	orphanReapInterval = time.Second
	pollFallback       = 20 * time.Millisecond
)

// group is one escalated command: the leader of its own process group.
type group struct {
	id        uint64
	pgid      int
	pidfd     int  // -1 when the kernel gave none
	reaped    bool // the leader was reaped
	lingering bool // reaped while the group still had members
}

type reaperProc struct {
	self    int
	groups  map[uint64]*group // until the leader is reaped, or while it lingers
	leaders map[int]*group    // by pid, until reaped
}

// send writes m to the server. A failed send means the server is gone,
// which the next read sees too.
func send(m reaperMsg) {
	b, _ := json.Marshal(m)
	frame.Write(reaperCtl, b, nil)
}

// serve handles the server's frames and the commands' ends until the
// socket ends (the call is over, or the server is gone).
func (r *reaperProc) serve() {
	for {
		pfds := []unix.PollFd{{Fd: reaperCtl, Events: unix.POLLIN}}
		timeout := orphanReapInterval
		for _, g := range r.leaders {
			if g.pidfd < 0 {
				timeout = pollFallback
				continue
			}
			pfds = append(pfds, unix.PollFd{Fd: int32(g.pidfd), Events: unix.POLLIN})
		}
		if _, err := unix.Poll(pfds, int(timeout/time.Millisecond)); err != nil && err != unix.EINTR {
			send(reaperMsg{Op: "fatal", Msg: "poll: " + err.Error()})
			return
		}
		if pfds[0].Revents != 0 {
			payload, fds, err := frame.Read(reaperCtl)
			if err != nil {
				return
			}
			var m reaperMsg
			if json.Unmarshal(payload, &m) == nil && m.Op == "spawn" {
				r.spawn(m, fds)
			} else if m.Op == "signal" {
				r.signal(m)
			}
			frame.CloseAll(fds)
		}
		r.reapExited()
	}
}

func (r *reaperProc) spawn(m reaperMsg, fds []int) {
	if len(fds) != 4 || len(m.Argv) == 0 {
		send(reaperMsg{Op: "failed", ID: m.ID, Errno: int(unix.EINVAL)})
		return
	}
	// chdir into the pinned directory through its descriptor; the child
	// holds it until exec closes it.
	dir := "/proc/self/fd/" + strconv.Itoa(fds[3])
	if unix.Access(dir, unix.X_OK) != nil && m.Dir != "" {
		dir = m.Dir
	}
	pidfd := -1
	// syscall.ForkExec dup2s each fd onto its slot (moving any that collide
	// out of the way first); everything else this process holds is
	// close-on-exec.
	pid, err := syscall.ForkExec(m.Path, m.Argv, &syscall.ProcAttr{
		Dir:   dir,
		Env:   m.Env,
		Files: []uintptr{uintptr(fds[0]), uintptr(fds[1]), uintptr(fds[2])},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, PidFD: &pidfd},
	})
	if err != nil {
		// Like a shell, the reason goes to the command's own stderr.
		tell(fds[2], fmt.Sprintf("execgate: %s: %v\n", m.Name, err))
		send(reaperMsg{Op: "failed", ID: m.ID, Errno: int(errnoOf(err))})
		return
	}
	g := &group{id: m.ID, pgid: pid, pidfd: pidfd}
	r.groups[m.ID] = g
	r.leaders[pid] = g
}

// signal delivers a forwarded signal to a command's process group, only
// while the group id is known to be the command's: until its leader is
// reaped the zombie pins the id, and after that only if members were still
// alive when it was reaped.
func (r *reaperProc) signal(m reaperMsg) {
	g := r.groups[m.ID]
	if g == nil || (g.reaped && !g.lingering) || !forwardable(unix.Signal(m.Signal)) {
		return
	}
	unix.Kill(-g.pgid, unix.Signal(m.Signal))
}

// reapExited reaps every child that has ended: a command (whose end it
// reports) or an orphan reparented here.
func (r *reaperProc) reapExited() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		g := r.leaders[pid]
		if g == nil {
			continue
		}
		delete(r.leaders, pid)
		if g.pidfd >= 0 {
			unix.Close(g.pidfd)
		}
		g.reaped = true
		g.lingering = unix.Kill(-pid, 0) == nil
		if !g.lingering {
			delete(r.groups, g.id)
		}
		send(reaperMsg{Op: "exited", ID: g.id, Pid: pid, Status: int(ws)})
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
