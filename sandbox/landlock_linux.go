package sandbox

import (
	"errors"
	"fmt"
	"os"

	"github.com/landlock-lsm/go-landlock/landlock"
	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
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

// The call's Landlock ruleset is built by the server, before the helper
// starts (stage 3 of docs/c-helper.md): the helper only restricts itself
// with it (restrictLandlock), so that the rules, the ABI presets and
// go-landlock stay in one place, the server. Landlock binds a rule to the
// inode, so a ruleset built in the server's mount namespace holds in the
// helper's.

// buildRuleset pins h's writable roots, readable paths and writable files
// (see pinRoots), builds the ruleset on those pins for the ABI the kernel
// offers (or h's override, tests) and records in h how to restrict with it
// and, with namespaces, which mounts the helper keeps writable. The caller
// sends the returned fd with the activation and closes it.
func buildRuleset(h *helperSpec) (int, error) {
	abi := landlockABI()
	if h.landlockABI != 0 {
		abi = min(max(h.landlockABI, 0), abi)
	}
	if abi < 1 {
		return -1, &UnenforceableError{Mode: h.Mode, Missing: errNoLandlock.Error()}
	}
	pinned, err := pinRoots(h.Roots)
	if err != nil {
		return -1, fmt.Errorf("sandbox: %w", err)
	}
	defer closePinned(pinned)
	g, err := pinGrants(*h)
	if err != nil {
		return -1, fmt.Errorf("sandbox: %w", err)
	}
	defer g.close()
	if h.Namespaces {
		// From these very pins: what the helper keeps writable must be
		// what the ruleset grants.
		if h.Writable, h.AllWritable, err = writableMounts(pinned, h.WriteFiles, g.writeFiles); err != nil {
			return -1, fmt.Errorf("sandbox: %w", err)
		}
	}
	fd, flags, err := landlockRuleset(abi, h.Network, pinned, g)
	if err != nil {
		return -1, fmt.Errorf("sandbox: %w", err)
	}
	h.Landlock, h.LandlockFlags = true, int(flags)
	return fd, nil
}

// landlockRuleset is the ruleset of a call: read and execute on the
// layout's readable paths ("/" for most policies), every handled right
// (refer, ioctl on devices, unix socket resolution included) on the
// writable roots, read and write on the writable files and the harmless
// devices, and signal and abstract-socket scoping where the ABI has them.
// The network is left to seccomp (Landlock's TCP rules miss MPTCP and UDP
// before ABI 10), so no network access right is handled here. It returns
// the ruleset fd and the flags to restrict with: on ABI 8 and later,
// TSYNC, which confines every thread of the helper at once (and sets
// no_new_privs on all of them from ABI 11).
func landlockRuleset(abi int, network bool, roots []pinnedRoot, g grants) (int, uint32, error) {
	cfg := presets[min(abi, len(presets)-1)]
	cfg.HandledAccessNet = 0
	all := cfg.HandledAccessFS
	file := all & landlock.AccessFSSet(ll.AccessFSExecute|ll.AccessFSReadFile|ll.AccessFSWriteFile|ll.AccessFSTruncate|ll.AccessFSIoctlDev)
	roFile := all & landlock.AccessFSSet(ll.AccessFSExecute|ll.AccessFSReadFile)
	roDir := all & landlock.AccessFSSet(ll.AccessFSExecute|ll.AccessFSReadFile|ll.AccessFSReadDir)

	var rules []landlock.Rule
	for _, fd := range g.read {
		if fd < 0 {
			continue
		}
		access, err := fdAccess(fd, roDir, roFile)
		if err != nil {
			return -1, 0, err
		}
		rules = append(rules, landlock.PathAccess(access, fdPath(fd)))
	}
	for _, fd := range g.writeFiles {
		if fd >= 0 {
			rules = append(rules, landlock.PathAccess(file, fdPath(fd)))
		}
	}
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
	fd, flags, err := cfg.NewRulesetFD(rules...)
	if err == nil && fd < 0 {
		err = errors.New("nothing to restrict")
	}
	if err != nil {
		return -1, 0, fmt.Errorf("landlock (ABI %d): %w", abi, err)
	}
	if abi >= 8 {
		flags |= ll.FlagRestrictSelfTSync
		if abi >= 11 {
			flags |= ll.FlagRestrictSelfNoNewPrivs
		}
	}
	return fd, flags, nil
}

// fdPath names a pinned file for APIs that take a path.
func fdPath(fd int) string { return fmt.Sprintf("/proc/self/fd/%d", fd) }

// fdAccess is dir for a directory, file for anything else: Landlock
// refuses directory rights on a file.
func fdAccess(fd int, dir, file landlock.AccessFSSet) (landlock.AccessFSSet, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, fmt.Errorf("landlock: stat a readable path: %w", err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return dir, nil
	}
	return file, nil
}
