//go:build !linux

package sandbox

import (
	"context"
	"os/exec"
)

// sparePool is empty here: spare helpers exist on Linux only, where the
// helper confines itself. Elsewhere Start always starts the command.
type sparePool struct{}

// Prepare does nothing on this OS (see the Linux version).
func (l *Launcher) Prepare(spec Spec) {}

// Close does nothing on this OS: there are no spares to end.
func (l *Launcher) Close() {}

func (l *Launcher) activateSpare(ctx context.Context, h helperSpec, argv []string, p Proc) *exec.Cmd {
	return nil
}
