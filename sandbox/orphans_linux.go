package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// A server killed before it could remove its pids cgroups (SIGKILL, a
// crash, an OOM kill) leaves them behind, empty, for good. A launcher
// removes those of servers that are gone once, when it finds its cgroup
// parent.
//
// Whose a cgroup is shows in its name, execgate-PID-INSTANCE-NAME, but
// the pid alone does not tell whether its server is alive: it is the pid
// in the server's own pid namespace, and a server run inside a sandboxed
// call (a child pid namespace) makes its cgroups next to those of the
// server outside, neither seeing the other's pid. So a server also holds a
// shared lock on each cgroup it made, for as long as it may use it: the
// lock belongs to the open file, whatever the namespace, and the kernel
// drops it when its holder dies. A cgroup is removed only if nobody holds
// its lock and its pid is gone or now another process's (a kernel
// thread, or one started after the cgroup was made).

// reuseMargin is how much later than a cgroup a process with its pid must
// have started to be taken for another process: start times are counted
// in clock ticks, and a cgroup's time is the wall clock's.
const reuseMargin = time.Second

// sweepOrphans removes the empty cgroups of servers that are gone from
// b's cgroup parent, and logs (debug) each one removed.
func (b *pidsBound) sweepOrphans(log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Whether a pid was reused is told by its start time, in /proc: that
	// must be our pid namespace's /proc.
	if self, err := os.Readlink("/proc/self"); err != nil || self != strconv.Itoa(os.Getpid()) {
		log.Debug("not removing the pids cgroups of dead servers: /proc is not this pid namespace's", "proc_self", self, "err", err)
		return
	}
	entries, err := os.ReadDir(b.cgroup)
	if err != nil {
		log.Debug("not removing the pids cgroups of dead servers", "err", fmt.Errorf("read %s: %w", b.cgroup, err))
		return
	}
	own := b.ownPrefix()
	bootOffset, ok := bootTimeOffset()
	if !ok {
		log.Debug("not removing the pids cgroups of dead servers: no clock to tell a reused pid by")
		return
	}
	for _, e := range entries {
		pid, ok := cgroupMaker(e.Name())
		if !ok || !e.IsDir() || strings.HasPrefix(e.Name(), own) {
			continue
		}
		dir := filepath.Join(b.cgroup, e.Name())
		if why, ok := removeOrphan(dir, pid, bootOffset); ok {
			log.Debug("removed the pids cgroup of a server that is gone", "cgroup", dir, "pid", pid, "because", why)
		}
	}
}

// cgroupMaker is the pid in the name of a cgroup a server made,
// execgate-PID-REST (REST: INSTANCE-NAME, or NAME before instances were
// named): false for any other name.
func cgroupMaker(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "execgate-")
	if !ok {
		return 0, false
	}
	num, rest, ok := strings.Cut(rest, "-")
	if !ok || rest == "" || num == "" || num[0] == '0' {
		return 0, false
	}
	pid, err := strconv.ParseInt(num, 10, 32)
	if err != nil || pid <= 0 {
		return 0, false
	}
	for _, c := range rest {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '-') {
			return 0, false
		}
	}
	return int(pid), true
}

// removeOrphan removes dir, made by a server with pid pid, if that server
// is gone, and says why it is taken for gone. It holds dir's lock
// exclusively meanwhile, so that a server that made dir but has not locked
// it yet cannot start to use it.
func removeOrphan(dir string, pid int, bootOffset time.Duration) (string, bool) {
	lock, err := lockGroup(dir, unix.LOCK_EX|unix.LOCK_NB)
	if err != nil {
		return "", false // a live server's, or gone already
	}
	defer unix.Close(lock)
	var st unix.Stat_t
	if err := unix.Fstat(lock, &st); err != nil {
		return "", false
	}
	why, gone := makerGone(pid, time.Unix(st.Mtim.Unix()), bootOffset)
	if !gone {
		return "", false
	}
	// rmdir refuses a cgroup that has processes or children.
	if err := unix.Rmdir(dir); err != nil {
		return "", false
	}
	return why, true
}

// makerGone reports whether the server with pid pid that made a cgroup at
// made is gone: no process has pid, or the one that has it is a kernel
// thread or started after the cgroup was made. Anything it cannot tell
// counts as alive.
func makerGone(pid int, made time.Time, bootOffset time.Duration) (string, bool) {
	switch err := unix.Kill(pid, 0); {
	case errors.Is(err, unix.ESRCH):
		return "no process has its pid", true
	case err != nil && !errors.Is(err, unix.EPERM):
		return "", false
	}
	p, ok := readProcStat(pid, bootOffset)
	switch {
	case !ok:
		return "", false
	case p.kernel:
		return "its pid is a kernel thread's", true
	case p.start.After(made.Add(reuseMargin)):
		return "the process with its pid started after the cgroup was made", true
	}
	return "", false
}

// lockGroup opens the cgroup directory dir and flocks it with how.
func lockGroup(dir string, how int) (int, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", dir, err)
	}
	if err := unix.Flock(fd, how); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("lock %s: %w", dir, err)
	}
	return fd, nil
}

// bootTimeOffset is the wall clock's time at boot, as an offset from the
// Unix epoch: what turns a process's start, counted from boot, into a
// time.
func bootTimeOffset() (time.Duration, bool) {
	var real, boot unix.Timespec
	if unix.ClockGettime(unix.CLOCK_REALTIME, &real) != nil || unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot) != nil {
		return 0, false
	}
	return time.Duration(real.Nano() - boot.Nano()), true
}

// clockTicks is USER_HZ, the unit of a process's start time in
// /proc/PID/stat: 100 on every architecture Linux has had for years.
const clockTicks = 100

// procStat is what /proc/PID/stat tells of a process.
type procStat struct {
	start  time.Time
	kernel bool // a kernel thread
}

// pfKthread is the flag of a kernel thread in /proc/PID/stat.
const pfKthread = 0x00200000

// readProcStat reads /proc/PID/stat (false if it cannot).
func readProcStat(pid int, bootOffset time.Duration) (procStat, bool) {
	// The flags are field 9, the 7th after the command name; the start
	// time is field 22, the 20th.
	f, ok := procStatFields(strconv.Itoa(pid))
	if !ok || len(f) < 20 {
		return procStat{}, false
	}
	flags, err1 := strconv.ParseUint(f[6], 10, 64)
	ticks, err2 := strconv.ParseUint(f[19], 10, 64)
	if err1 != nil || err2 != nil {
		return procStat{}, false
	}
	since := time.Duration(ticks) * (time.Second / clockTicks)
	return procStat{start: time.Unix(0, int64(bootOffset+since)), kernel: flags&pfKthread != 0}, true
}
