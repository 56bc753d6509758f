package sandbox

import (
	"fmt"
	"io"
)

// Capabilities is what this machine offers the sandbox.
type Capabilities struct {
	OS string
	// LandlockABI is the running kernel's Landlock ABI, 0 without Landlock.
	LandlockABI int
	// Seccomp says seccomp filters (with the kill-process action) work.
	Seccomp      bool
	SeccompError string `json:",omitempty"`
	// Namespaces says the helper can enter new user, mount and pid
	// namespaces and mount there: protected paths are then enforced and
	// the pid namespace ends every process of a call.
	Namespaces      bool
	NamespacesError string `json:",omitempty"`
	// ProcMount says the pid namespace can have its own /proc (some
	// containers refuse it); without it the call sees other processes
	// in /proc but still cannot outlive its helper.
	ProcMount      bool
	ProcMountError string `json:",omitempty"`
	// MountAPIError, when set, says why the helper cannot use the new
	// mount API (open_tree, mount_setattr, fsopen: a container's seccomp
	// profile may refuse it) and makes its mounts with mount(2) instead.
	// The server then sends it, with each call, the mount points to make
	// read-only one by one, which only the new API does in one call.
	MountAPIError string `json:",omitempty"`
	// KernelGate says the kernel can stop each program start of a call
	// for the server to check (seccomp user notification, pidfd_getfd):
	// the rules then hold for every program the call starts, not only
	// for the shell's own.
	KernelGate      bool
	KernelGateError string `json:",omitempty"`
	// LauncherError, when set, says why there is no sandbox launcher
	// (execgate-nsexec), without which no call runs in any mode: it is
	// every call's supervisor (Linux).
	LauncherError string `json:",omitempty"`
}

// NoGateEffect is what a call without the kernel gate gets.
const NoGateEffect = "rules hold for the shell's own program starts only"

// Check returns nil when mode can be enforced here, else an
// *UnenforceableError naming the missing feature.
func (c Capabilities) Check(mode Mode) error {
	return c.check(mode, 0)
}

// check is Check with a test override of the Landlock ABI (see Spec).
func (c Capabilities) check(mode Mode, abiOverride int) error {
	if _, err := ParseMode(string(mode)); err != nil {
		return err
	}
	if c.LauncherError != "" {
		return &UnenforceableError{Mode: mode, Missing: c.LauncherError}
	}
	if mode == DangerFullAccess {
		return nil
	}
	abi := c.LandlockABI
	if abiOverride != 0 {
		abi = min(max(abiOverride, 0), abi)
	}
	if c.OS != "linux" {
		return &UnenforceableError{Mode: mode, Missing: "sandboxing is implemented for Linux only, this is " + c.OS}
	}
	if abi < 1 {
		return &UnenforceableError{Mode: mode, Missing: errNoLandlock.Error()}
	}
	if !c.Seccomp {
		return &UnenforceableError{Mode: mode, Missing: "seccomp filters are not available: " + c.SeccompError}
	}
	return nil
}

// ProtectsPaths reports whether .git, .codex and .agents inside writable
// roots are kept read-only. Without namespaces they are not, and the
// policy layer should not trust anything those paths configure.
func (c Capabilities) ProtectsPaths() bool { return c.Namespaces }

// AttributesUnprotected says what a sandbox without namespaces leaves open:
// Landlock does not confine a file's mode, owner, times or extended
// attributes, and only a read-only mount (which needs a mount namespace)
// would.
const AttributesUnprotected = "file attributes (mode, owner, times, xattrs) outside writable roots NOT protected, only setuid/setgid bits refused (no user namespaces)"

// Report writes the doctor section for the sandbox: the kernel features
// and what each mode enforces with them.
func Report(w io.Writer, c Capabilities) error {
	yes := func(b bool, why string) string {
		if b {
			return "yes"
		}
		if why == "" {
			return "no"
		}
		return "no (" + why + ")"
	}
	ll := "not available"
	if c.LandlockABI > 0 {
		ll = fmt.Sprintf("ABI %d", c.LandlockABI)
	}
	fmt.Fprintf(w, "sandbox (%s):\n", c.OS)
	if c.LauncherError != "" {
		fmt.Fprintf(w, "  %-20s%s\n", "launcher:", "MISSING: "+c.LauncherError)
	}
	fmt.Fprintf(w, "  %-20s%s\n", "landlock:", ll)
	fmt.Fprintf(w, "  %-20s%s\n", "seccomp filters:", yes(c.Seccomp, c.SeccompError))
	fmt.Fprintf(w, "  %-20s%s\n", "user namespaces:", yes(c.Namespaces, c.NamespacesError))
	gate := "yes: rules hold for every program a call starts"
	if !c.KernelGate {
		gate = yes(false, c.KernelGateError) + ": " + NoGateEffect
	}
	fmt.Fprintf(w, "  %-20s%s\n", "kernel exec gate:", gate)
	if c.Namespaces {
		fmt.Fprintf(w, "  %-20s%s\n", "private /proc:", yes(c.ProcMount, c.ProcMountError))
	}
	for _, m := range []Mode{ReadOnly, WorkspaceWrite, DangerFullAccess} {
		fmt.Fprintf(w, "  %-20s%s\n", string(m)+":", c.enforcement(m))
	}
	_, err := fmt.Fprintln(w)
	return err
}

// enforcement describes in one line what mode gets on this machine.
func (c Capabilities) enforcement(m Mode) string {
	if c.LauncherError != "" {
		return "REFUSED: no sandbox launcher"
	}
	if m == DangerFullAccess {
		return "no confinement (explicit opt-out), no kernel gate (" + NoGateEffect + "); processes still end with the call"
	}
	if err := c.Check(m); err != nil {
		return "REFUSED: " + err.(*UnenforceableError).Missing
	}
	s := "read-only filesystem"
	if m == WorkspaceWrite {
		s = "writes only in writable roots"
		if c.Namespaces {
			s += ", .git/.codex/.agents read-only"
		} else {
			s += ", .git/.codex/.agents NOT protected (no user namespaces)"
		}
	}
	if c.Namespaces {
		s += ", file attributes outside writable roots read-only (read-only mounts)"
	} else {
		s += ", " + AttributesUnprotected
	}
	s += ", network off unless enabled, ptrace/io_uring denied"
	if c.LandlockABI >= 6 {
		s += ", signals and abstract sockets scoped"
	}
	if c.Namespaces {
		s += ", pid namespace"
	} else {
		s += ", subreaper cleanup"
	}
	return s
}
