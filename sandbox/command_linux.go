package sandbox

import (
	"context"
	"errors"
	"os/exec"
	"syscall"
)

// The launcher's self-test roles (the call roles are spareArg and
// startedArg): the namespace self-test, and a do-nothing role that tells a
// launcher that works from one that does not (see Probe).
const (
	probeNamespacesArg = "--probe-namespaces"
	probeLauncherArg   = "--probe-launcher"
)

// errNoLauncher is why nothing starts without the sandbox launcher.
var errNoLauncher = errors.New("no sandbox launcher (execgate-nsexec, built with the patched Bash by `make bash`): every call's supervisor is that program")

// helperCommand is the helper in role, started by the sandbox launcher
// (nsexec/nsexec.c), itself started by os/exec in its own process group
// with a parent-death signal. With ns the launcher makes new user, mount
// and pid namespaces and supervises the call as their pid 1; without, it
// supervises as a child subreaper. Either way it forks the helper, which
// applies the call's confinement and execs the program.
func (l *Launcher) helperCommand(ctx context.Context, ns bool, role string) (*exec.Cmd, error) {
	if l.nsexec == "" {
		return nil, errNoLauncher
	}
	mode := "--no-ns"
	if ns {
		mode = "--ns"
	}
	cmd := exec.CommandContext(ctx, l.nsexec, mode, role)
	cmd.SysProcAttr = sysProcAttr()
	return cmd, nil
}

// sysProcAttr starts the launcher in its own process group with a
// parent-death signal. Note that the parent-death signal fires when the
// *thread* that started it exits, so the caller must not start it from a
// goroutine that locks its OS thread and then returns.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
