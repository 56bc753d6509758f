//go:build unix && !linux

package server

import "syscall"

// setParentDeathSignal has no equivalent outside Linux: a call whose server
// dies is left to its own timeout.
func setParentDeathSignal(*syscall.SysProcAttr) {}
