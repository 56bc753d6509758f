package sandbox

import (
	"fmt"
	"os"

	"github.com/landlock-lsm/go-landlock/landlock"
	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
)

// presets are go-landlock's configurations by ABI version (index 0 unused).
var presets = [...]landlock.Config{{}, landlock.V1, landlock.V2, landlock.V3, landlock.V4,
	landlock.V5, landlock.V6, landlock.V7, landlock.V8, landlock.V9, landlock.V10, landlock.V11}

// landlockABI returns the ABI the running kernel offers, 0 without
// Landlock. Like go-landlock, it counts a kernel whose signal scoping bug
// is not fixed (errata bit 2) as ABI 5.
func landlockABI() int {
	v, err := ll.LandlockGetABIVersion()
	if err != nil || v < 0 {
		return 0
	}
	if v >= 6 {
		if e, err := ll.LandlockGetErrata(); err != nil || e&0x2 == 0 {
			v = 5
		}
	}
	return v
}

// applyLandlock restricts every thread of the process: read and execute
// everywhere, every handled right (refer, ioctl on devices, unix socket
// resolution included) on the writable roots, read/write on the harmless
// devices, and signal and abstract-socket scoping where the ABI has them.
// The network is left to seccomp (Landlock's TCP rules miss MPTCP and UDP
// before ABI 10), so no network access right is handled here.
func applyLandlock(abi int, network bool, roots []pinnedRoot) error {
	if abi < 1 {
		return errNoLandlock
	}
	cfg := presets[min(abi, len(presets)-1)]
	cfg.HandledAccessNet = 0
	all := cfg.HandledAccessFS

	rules := []landlock.Rule{landlock.RODirs("/")}
	if len(roots) > 0 {
		paths := make([]string, len(roots))
		for i, r := range roots {
			paths[i] = r.procPath() // the pinned directory, see pinRoots
		}
		rules = append(rules, landlock.PathAccess(all, paths...))
	}
	dev := all & landlock.AccessFSSet(ll.AccessFSReadFile|ll.AccessFSWriteFile|ll.AccessFSTruncate|ll.AccessFSIoctlDev)
	rules = append(rules, landlock.PathAccess(dev, "/dev/null", "/dev/zero"))
	if _, err := os.Stat("/dev/tty"); err == nil {
		rules = append(rules, landlock.PathAccess(dev, "/dev/tty"))
	}
	if network && all&ll.AccessFSResolveUnix != 0 {
		// With the network on, pathname unix sockets (ssh-agent, a
		// database) are reachable as TCP would be.
		rules = append(rules, landlock.PathAccess(ll.AccessFSResolveUnix, "/"))
	}
	if err := cfg.Restrict(rules...); err != nil {
		return fmt.Errorf("landlock (ABI %d): %w", abi, err)
	}
	return nil
}
