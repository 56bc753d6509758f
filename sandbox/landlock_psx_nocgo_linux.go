//go:build !cgo

package sandbox

import "github.com/landlock-lsm/go-landlock/landlock"

// psxRules: without cgo, psx runs the syscall on every thread through the
// Go runtime (syscall.AllThreadsSyscall), which needs no file.
func psxRules(int, landlock.AccessFSSet) []landlock.Rule { return nil }
