package sandbox

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// helperCommand is the helper with args, started by os/exec in its own
// process group with a parent-death signal and, with ns, in new user, mount
// and pid namespaces: made by the namespace launcher when there is one
// (which lets os/exec vfork), else by os/exec itself (a full fork of the
// server).
func (l *Launcher) helperCommand(ctx context.Context, ns bool, args ...string) *exec.Cmd {
	if ns && l.nsexec != "" {
		cmd := exec.CommandContext(ctx, l.nsexec, append([]string{l.self}, args...)...)
		cmd.SysProcAttr = sysProcAttr(false)
		return cmd
	}
	cmd := exec.CommandContext(ctx, l.self, args...)
	cmd.SysProcAttr = sysProcAttr(ns)
	return cmd
}

// sysProcAttr starts the helper in its own process group with a
// parent-death signal and, with ns, in new user, mount and pid namespaces.
// Note that the parent-death signal fires when the *thread* that started
// the helper exits, so the caller must not start it from a goroutine that
// locks its OS thread and then returns.
func sysProcAttr(ns bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if ns {
		a.Cloneflags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID
		a.UidMappings = idMap("/proc/self/uid_map", os.Getuid())
		a.GidMappings = idMap("/proc/self/gid_map", os.Getgid())
		// Mounting needs CAP_SYS_ADMIN after the helper's execve; a
		// non-root uid keeps it only as an ambient capability, which
		// the helper clears before it starts Bash.
		a.AmbientCaps = []uintptr{unix.CAP_SYS_ADMIN}
	}
	return a
}

// idMap maps id to itself. Root maps every id of its own namespace to
// itself, so that files keep their owners and root its access to them
// (with capabilities that now count only inside the new namespace).
func idMap(file string, id int) []syscall.SysProcIDMap {
	single := []syscall.SysProcIDMap{{ContainerID: id, HostID: id, Size: 1}}
	if os.Geteuid() != 0 {
		return single
	}
	f, err := os.Open(file)
	if err != nil {
		return single
	}
	defer f.Close()
	var out []syscall.SysProcIDMap
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 3 {
			return single
		}
		inside, err1 := strconv.ParseUint(fs[0], 10, 32)
		size, err2 := strconv.ParseUint(fs[2], 10, 32)
		if err1 != nil || err2 != nil || len(out) == 340 {
			return single
		}
		out = append(out, syscall.SysProcIDMap{ContainerID: int(inside), HostID: int(inside), Size: int(size)})
	}
	if len(out) == 0 {
		return single
	}
	return out
}
