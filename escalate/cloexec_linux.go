package escalate

import (
	"math"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// markAllCloseOnExec makes every descriptor from 3 up close-on-exec in this
// process. Everything Go and this package open already is; what is left are
// descriptors the server inherited from whoever started it (a shell's saved
// fds, an MCP client's pipes). syscall.ForkExec cannot close them in the
// child, so without this they would reach every escalated command, which
// must get exactly fds 0, 1 and 2.
func markAllCloseOnExec() {
	if unix.CloseRange(3, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC) == nil {
		return
	}
	// Kernels before 5.11: walk the table.
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
}
