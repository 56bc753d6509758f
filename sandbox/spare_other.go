//go:build !linux

package sandbox

import (
	"context"
	"fmt"
	"os"
	"os/exec"
)

// sparePool is empty here: spare helpers exist on Linux only, where the
// helper confines itself. Elsewhere Start always starts the command.
type sparePool struct{}

// Prepare does nothing on this OS (see the Linux version).
func (l *Launcher) Prepare(spec Spec) {}

// Close does nothing on this OS: there are no spares to end.
func (l *Launcher) Close() {}

// startCall starts the command itself: there is no helper on this OS
// (only danger-full-access gets here, see command).
func (l *Launcher) startCall(ctx context.Context, h helperSpec, argv []string, p Proc) (*exec.Cmd, error) {
	cmd, err := l.command(ctx, h, argv)
	if err != nil {
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
		return nil, fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	return cmd, nil
}
