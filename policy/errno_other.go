//go:build !unix

package policy

import "syscall"

func errnoOf(error) (syscall.Errno, bool) { return 0, false }
