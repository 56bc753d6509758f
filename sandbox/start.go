package sandbox

import (
	"context"
	"fmt"
	"os"
	"os/exec"
)

// Proc is what a started command gets besides its argv: working directory,
// environment and files. Nil files mean /dev/null; Extra, when set, becomes
// fd 3 (the escalate socket).
type Proc struct {
	Dir                   string
	Env                   []string
	Stdin, Stdout, Stderr *os.File
	Extra                 *os.File
}

// Start starts argv (Bash and its arguments) under spec with p: the helper
// `self sandbox SPEC -- ARGV...` in its own process group, killed if the
// server dies. When a spare helper is ready (see Prepare) the call goes to
// it instead: a helper started ahead of time whose runtime is up and, with
// namespaces, whose namespaces exist, which takes a process start off the
// call's path. Either way the command runs the same code with the same
// confinement; only who started the helper differs.
//
// The returned command is running: the caller must Wait for it, and reads
// its pid (also its process group) from cmd.Process. When ctx ends the
// helper gets SIGTERM, which ends every process of the call at once.
//
// A mode that cannot be enforced here is an *UnenforceableError and
// nothing is started. Otherwise the Observe function, if any, learns the
// call's Protection before the helper runs anything.
func (l *Launcher) Start(ctx context.Context, spec Spec, argv []string, p Proc) (*exec.Cmd, error) {
	h, err := l.helperSpec(spec, argv)
	if err != nil {
		return nil, err
	}
	if h.PidsCgroup, err = l.pids.newGroup(); err != nil {
		return nil, err
	}
	if h.PidsCgroup != "" {
		h.PidsHome = l.pids.cgroup
	}
	if l.observe != nil {
		l.observe(h.protection())
	}
	if cmd := l.activateSpare(ctx, h, argv, p); cmd != nil {
		l.pids.attach(h.PidsCgroup, cmd)
		return cmd, nil
	}
	cmd, err := l.command(ctx, h, argv)
	if err != nil {
		l.pids.release(h.PidsCgroup)
		return nil, err
	}
	cmd.Dir, cmd.Env = p.Dir, p.Env
	// A nil *os.File must stay a nil interface: os/exec reads that as
	// /dev/null, and would write to a typed nil.
	if p.Stdin != nil {
		cmd.Stdin = p.Stdin
	}
	if p.Stdout != nil {
		cmd.Stdout = p.Stdout
	}
	if p.Stderr != nil {
		cmd.Stderr = p.Stderr
	}
	if p.Extra != nil {
		cmd.ExtraFiles = []*os.File{p.Extra}
	}
	if err := cmd.Start(); err != nil {
		l.pids.release(h.PidsCgroup)
		return nil, fmt.Errorf("starting the sandbox helper %s: %w", cmd.Path, err)
	}
	l.pids.attach(h.PidsCgroup, cmd)
	return cmd, nil
}
