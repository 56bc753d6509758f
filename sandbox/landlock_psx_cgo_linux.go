//go:build cgo

package sandbox

import (
	"fmt"
	"os"

	"github.com/landlock-lsm/go-landlock/landlock"
	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
)

// psxRules are the rules the all-threads enforcement itself needs. With
// cgo (the race-enabled test binary; execgate is built without it), psx
// runs the syscall through the C libpsx, which lists /proc/PID/task on
// each thread right after the restriction: that directory must stay
// readable, as go-landlock's own Restrict makes it. From ABI 8 the kernel
// restricts every thread itself, without psx.
func psxRules(abi int, handled landlock.AccessFSSet) []landlock.Rule {
	if abi >= 8 || handled&landlock.AccessFSSet(ll.AccessFSReadDir) == 0 {
		return nil
	}
	return []landlock.Rule{landlock.PathAccess(landlock.AccessFSSet(ll.AccessFSReadDir), fmt.Sprintf("/proc/%d/task", os.Getpid()))}
}
