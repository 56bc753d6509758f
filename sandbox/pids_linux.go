package sandbox

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// cgroupSet is the pids cgroups a launcher made, one per helper. Making
// one costs about 0.1 ms, so the next call's is made ahead, after a call
// starts, and the empty ones of calls that ended are removed then too.
type cgroupSet struct {
	mu  sync.Mutex
	seq uint64
	// made holds the cgroups made and not removed yet, each with the fd
	// of its shared lock, which tells a server sweeping the cgroups of
	// dead ones (orphans_linux.go) that this one is alive.
	made   map[string]int
	ready  string // made ahead for the next call ("" none)
	inUse  map[string]bool
	of     map[*exec.Cmd]string // the cgroup of each started helper, until asked about
	closed bool
}

// probePids finds where l can make pids cgroups, and has the empty ones
// of servers that are gone removed from there.
func (l *Launcher) probePids(log *slog.Logger) {
	b := &l.pids
	b.root = os.Geteuid() == 0
	b.oldKernel = !kernelAtLeast(5, 14)
	if b.max == 0 {
		return
	}
	dir, err := ownPidsCgroup()
	if err == nil {
		var probe string
		var lock int
		if probe, lock, err = b.makeGroup(dir, "probe"); err == nil {
			err = unix.Rmdir(probe)
			unix.Close(lock)
		}
	}
	if err != nil {
		b.cgroupErr = "no pids cgroup: " + err.Error()
		return
	}
	b.cgroup = dir
	b.orphansSwept = make(chan struct{})
	go func() {
		defer close(b.orphansSwept)
		b.sweepOrphans(log)
	}()
	go b.prepare()
}

// newGroup returns a fresh pids cgroup for one helper ("" when there is
// no cgroup to make), the one made ahead if there is one, and has the next
// one made.
func (b *pidsBound) newGroup() (string, error) {
	if b.cgroup == "" || b.max == 0 {
		return "", nil
	}
	g := &b.groups
	g.mu.Lock()
	dir := g.ready
	g.ready = ""
	g.mu.Unlock()
	if dir == "" {
		var err error
		if dir, err = b.make(); err != nil {
			return "", fmt.Errorf("sandbox: pids cgroup for the call: %w", err)
		}
	}
	g.mu.Lock()
	if g.inUse == nil {
		g.inUse = map[string]bool{}
	}
	g.inUse[dir] = true
	g.mu.Unlock()
	go b.prepare()
	return dir, nil
}

// make makes one more cgroup.
func (b *pidsBound) make() (string, error) {
	g := &b.groups
	g.mu.Lock()
	g.seq++
	name := strconv.FormatUint(g.seq, 10)
	g.mu.Unlock()
	dir, lock, err := b.makeGroup(b.cgroup, name)
	if err != nil {
		return "", err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		// close has swept already: this one would be left behind.
		unix.Rmdir(dir)
		unix.Close(lock)
		return "", errors.New("sandbox: the launcher is closed")
	}
	if g.made == nil {
		g.made = map[string]int{}
	}
	g.made[dir] = lock
	return dir, nil
}

// prepare removes the cgroups of ended calls and makes the next call's.
func (b *pidsBound) prepare() {
	b.sweep()
	g := &b.groups
	g.mu.Lock()
	busy := g.closed || g.ready != ""
	g.mu.Unlock()
	if busy {
		return
	}
	dir, err := b.make()
	if err != nil {
		return // the next call makes its own, and reports the error
	}
	g.mu.Lock()
	if g.ready == "" && !g.closed {
		g.ready = dir
	}
	g.mu.Unlock()
}

// release gives back the cgroup of a helper that did not start or whose
// count has been read: the next sweep removes it.
func (b *pidsBound) release(dir string) {
	g := &b.groups
	g.mu.Lock()
	delete(g.inUse, dir)
	g.mu.Unlock()
}

// ownPrefix is how the names of this server's cgroups start:
// execgate-PID-INSTANCE-.
func (b *pidsBound) ownPrefix() string {
	b.instanceOnce.Do(func() {
		var r [4]byte
		if _, err := unix.Getrandom(r[:], 0); err != nil {
			// Unique enough without randomness: a server's pid and start.
			binary.LittleEndian.PutUint32(r[:], uint32(time.Now().UnixNano()))
		}
		b.instance = hex.EncodeToString(r[:])
	})
	return fmt.Sprintf("execgate-%d-%s-", os.Getpid(), b.instance)
}

// makeGroup makes parent/execgate-PID-INSTANCE-name with pids.max set,
// and returns it with the fd of its shared lock, which the caller holds
// until it has removed the cgroup.
func (b *pidsBound) makeGroup(parent, name string) (string, int, error) {
	dir := filepath.Join(parent, b.ownPrefix()+name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", -1, err
	}
	lock, err := lockGroup(dir, unix.LOCK_SH)
	if err != nil {
		unix.Rmdir(dir)
		return "", -1, err
	}
	// A cgroup v2 child has the pids controller only when its parent
	// hands it down; v1 children always have it.
	if err := writeCgroupFile(filepath.Join(dir, "pids.max"), strconv.Itoa(b.max)); err != nil {
		unix.Rmdir(dir)
		unix.Close(lock)
		return "", -1, fmt.Errorf("set %s/pids.max: %w", dir, err)
	}
	return dir, lock, nil
}

// writeCgroupFile and readCgroupFile use plain system calls: an os.File
// would register the (pollable) cgroup file with the netpoller and take it
// out again, four more system calls for each of the two files every call
// touches.
func writeCgroupFile(path, value string) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, []byte(value)); err != nil {
		return &os.PathError{Op: "write", Path: path, Err: err}
	}
	return nil
}

// readCgroupFile reads a small cgroup file (a few lines of counters),
// which the kernel hands out whole in one read.
func readCgroupFile(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	buf := make([]byte, 4096)
	n, err := unix.Read(fd, buf)
	if err != nil {
		return nil, &os.PathError{Op: "read", Path: path, Err: err}
	}
	return buf[:n], nil
}

// sweep removes the cgroups no helper uses any more (rmdir fails on one
// that still has processes).
func (b *pidsBound) sweep() {
	g := &b.groups
	g.mu.Lock()
	defer g.mu.Unlock()
	for d, lock := range g.made {
		if g.inUse[d] || d == g.ready {
			continue
		}
		if err := unix.Rmdir(d); err != nil && !errors.Is(err, unix.ENOENT) {
			continue
		}
		unix.Close(lock)
		delete(g.made, d)
	}
}

// close removes the cgroups left (their helpers must be gone) and stops
// making new ones ahead. It lets go of the locks of those it could not
// remove, so that another server removes them once they are empty.
func (b *pidsBound) close() {
	if b.orphansSwept != nil {
		<-b.orphansSwept
	}
	g := &b.groups
	g.mu.Lock()
	g.closed, g.of, g.inUse, g.ready = true, nil, nil, ""
	g.mu.Unlock()
	b.sweep()
	g.mu.Lock()
	for d, lock := range g.made {
		unix.Close(lock)
		delete(g.made, d)
	}
	g.mu.Unlock()
}

// openCgroupProcs opens the cgroup.procs of the pids cgroup dir for the
// helper to join just before it execs the program (nsexec/helper.c:
// enter_bound).
func openCgroupProcs(dir string) (int, error) {
	p := filepath.Join(dir, "cgroup.procs")
	fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("sandbox: the call's pids cgroup: %w", &os.PathError{Op: "open", Path: p, Err: err})
	}
	return fd, nil
}

// refused is how many process starts the pids cgroup dir refused.
func refused(dir string) int {
	data, err := readCgroupFile(filepath.Join(dir, "pids.events"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "max "); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// attach remembers that cmd is the helper in the cgroup dir.
func (b *pidsBound) attach(dir string, cmd *exec.Cmd) {
	if dir == "" {
		return
	}
	b.groups.mu.Lock()
	defer b.groups.mu.Unlock()
	if b.groups.of == nil {
		b.groups.of = map[*exec.Cmd]string{}
	}
	b.groups.of[cmd] = dir
}

// ProcessStartsRefused is how many process starts the bound refused in
// the call cmd runs (a command Start returned, once it has been waited
// for). Ask once per command: the answer lets its cgroup go. It counts with a pids cgroup only: RLIMIT_NPROC keeps no count,
// and there the script's own errors (fork: Resource temporarily
// unavailable) are what tells.
func (l *Launcher) ProcessStartsRefused(cmd *exec.Cmd) int {
	b := &l.pids
	b.groups.mu.Lock()
	dir, ok := b.groups.of[cmd]
	delete(b.groups.of, cmd)
	b.groups.mu.Unlock()
	if !ok {
		return 0
	}
	defer b.release(dir)
	return refused(dir)
}
