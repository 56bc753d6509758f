//go:build !linux

package sandbox

import (
	"log/slog"
	"os/exec"
)

// cgroupSet is empty here: pids cgroups are Linux's.
type cgroupSet struct{}

func (l *Launcher) probePids(*slog.Logger) {
	l.pids.cgroupErr = "pids cgroups are Linux's"
}

func (b *pidsBound) newGroup() (string, error) { return "", nil }

func (b *pidsBound) attach(string, *exec.Cmd) {}

// ProcessStartsRefused is 0 here: there is no bound to refuse them.
func (l *Launcher) ProcessStartsRefused(*exec.Cmd) int { return 0 }

func (b *pidsBound) release(string) {}
