package sandbox

import (
	"fmt"
	"sync"
)

// DefaultMaxProcesses bounds the processes (threads included) of one call
// unless configured otherwise: far more than builds and test runs start at
// once, far fewer than a host's pid space.
const DefaultMaxProcesses = 1024

// MaxProcesses bounds the processes and threads of each call's sandbox to
// n (0: no bound). Without one, a fork bomb in a call takes pids until the
// host runs out, for as long as the call may run. How the bound is
// enforced depends on the machine (see [Launcher.ProcessBound]).
func MaxProcesses(n int) Option {
	return func(l *Launcher) { l.pids.max = max(n, 0) }
}

// ProcessBound says, for doctor, how a call's processes are bounded on
// this machine, and whether they are at all.
func (l *Launcher) ProcessBound() string {
	b := &l.pids
	switch {
	case b.max == 0:
		return "none (max_processes = 0)"
	case b.cgroup != "":
		return fmt.Sprintf("%d per call (a pids cgroup of its own under %s)", b.max, b.cgroup)
	case b.rlimit(l.caps):
		return fmt.Sprintf("%d per call (RLIMIT_NPROC, counted in the call's own user namespace; %s)", b.max, b.cgroupErr)
	case l.caps.Namespaces && b.oldKernel:
		return fmt.Sprintf("NONE: RLIMIT_NPROC counts every process of this user before Linux 5.14, and no pids cgroup can be made (%s)", b.cgroupErr)
	case l.caps.Namespaces:
		return fmt.Sprintf("NONE: RLIMIT_NPROC does not apply to root, and no pids cgroup can be made (%s)", b.cgroupErr)
	default:
		return fmt.Sprintf("NONE: RLIMIT_NPROC would count every process of this user, not the call's, without user namespaces, and no pids cgroup can be made (%s)", b.cgroupErr)
	}
}

// pidsBound is how a launcher bounds each call's processes: a pids cgroup
// per helper where this process may make them (root, or a delegated
// cgroup), else RLIMIT_NPROC, which since Linux 5.14 counts per user
// namespace and so bounds the call alone, but never applies to root.
type pidsBound struct {
	max int
	// cgroup is the pids cgroup directory this process is in, where it
	// may make a child per helper ("" when it may not: cgroupErr says
	// why).
	cgroup    string
	cgroupErr string
	root      bool // the sandbox runs as root, whom RLIMIT_NPROC exempts
	// oldKernel: before Linux 5.14 RLIMIT_NPROC counts all the user's
	// processes, not the namespace's: a call could not start anything
	// while the user has max processes elsewhere.
	oldKernel bool
	groups    cgroupSet

	// instance tells this server's cgroups from those of another with
	// the same pid (in another pid namespace, or one killed before it
	// could remove its own): made once, at the first cgroup.
	instanceOnce sync.Once
	instance     string

	// orphansSwept is closed once the empty cgroups of servers that are
	// gone have been removed (nil: no sweep, no cgroup parent).
	orphansSwept chan struct{}
}

// rlimit reports whether calls get RLIMIT_NPROC: when there is no cgroup,
// in their own user namespace, on Linux 5.14 or later, not as root.
func (b *pidsBound) rlimit(c Capabilities) bool {
	return b.max > 0 && b.cgroup == "" && c.Namespaces && !b.root && !b.oldKernel
}
