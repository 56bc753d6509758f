package sandbox

import (
	"time"

	"golang.org/x/sys/unix"
)

// pollNow polls fd for events without waiting.
func pollNow(fd int, events int16) (revents int16, err error) {
	return pollWait(fd, events, 0)
}

// pollWait polls fd for events for up to timeout; no event by then is
// revents 0. The Go runtime interrupts system calls with its preemption
// signal: EINTR is retried (with the time left), not taken for an answer.
func pollWait(fd int, events int16, timeout time.Duration) (revents int16, err error) {
	deadline := time.Now().Add(timeout)
	for {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: events}}
		n, err := unix.Poll(pfd, int(max(time.Until(deadline), 0)/time.Millisecond))
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
