//go:build linux && cgo && !landlocktsync

package sandbox

import (
	"fmt"
	"os"

	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// allowTaskList lets the helper list its own /proc/PID/task under the
// ruleset. In a cgo build (the race detector's, that is the tests'),
// go-landlock restricts every thread through libpsx, which lists that
// directory right after the restriction and aborts the process if it
// cannot (go-landlock issue 39). go-landlock's own Restrict adds the rule;
// the server cannot, since the directory is the helper's, so the helper
// adds it to the ruleset before it restricts. The static builds users run
// have no cgo and skip this (landlock_nopsx_linux.go).
func allowTaskList(ruleset int) error {
	path := fmt.Sprintf("/proc/%d/task", os.Getpid())
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("landlock: %s: %w", path, err)
	}
	defer unix.Close(fd)
	attr := ll.PathBeneathAttr{AllowedAccess: ll.AccessFSReadDir, ParentFd: fd}
	if err := ll.LandlockAddPathBeneathRule(ruleset, &attr, 0); err != nil {
		return fmt.Errorf("landlock: allow %s: %w", path, err)
	}
	return nil
}
