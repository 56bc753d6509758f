package sandbox

import (
	"golang.org/x/sys/unix"
)

// pollNow polls fd for events without waiting. The Go runtime interrupts
// system calls with its preemption signal: EINTR is retried, not taken
// for an answer.
func pollNow(fd int, events int16) (revents int16, err error) {
	for {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: events}}
		n, err := unix.Poll(pfd, 0)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, err
		case n == 0:
			return 0, nil
		}
		return pfd[0].Revents, nil
	}
}
