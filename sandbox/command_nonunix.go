//go:build !unix

package sandbox

import (
	"context"
	"os/exec"
)

// command runs argv directly: only danger-full-access gets here, the
// sandboxed modes have been refused by Check.
func (l *Launcher) command(ctx context.Context, h helperSpec, argv []string) (*exec.Cmd, error) {
	return exec.CommandContext(ctx, argv[0], argv[1:]...), nil
}
