//go:build unix

package policy

import (
	"errors"
	"syscall"
)

func errnoOf(err error) (syscall.Errno, bool) {
	var e syscall.Errno
	ok := errors.As(err, &e)
	return e, ok
}
