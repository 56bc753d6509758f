//go:build !linux && unix

package sandbox

import (
	"context"
	"os/exec"
	"syscall"
)

// command runs argv directly: only danger-full-access gets here, the
// sandboxed modes have been refused by Check.
func (l *Launcher) command(ctx context.Context, h helperSpec, argv []string) (*exec.Cmd, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd, nil
}
