package sandbox

// Spec is what one sandboxed command needs.
type Spec struct {
	Policy Policy
	// Workspace is the call's working root: the MCP client's root, Codex's
	// sandboxCwd, or the server's cwd. Writable under workspace-write.
	Workspace string
	// TmpDir is $TMPDIR as the command will see it ("" when unset).
	TmpDir string
	// Programs are files the call must be able to run whatever the
	// policy grants (the shell and the execve wrapper): where the policy
	// does not make them readable, Landlock does.
	Programs []string
	// KernelGate asks for the kernel gate: a seccomp user notification
	// on every program start of the call, whose listener Start hands to
	// Proc.OnGate. See gate_linux.go.
	KernelGate bool
	// Shell is the patched Bash. With namespaces, the call's `bash`,
	// /bin/bash and /usr/bin/bash are it too (see shellMount), so a
	// nested Bash intercepts like the call's own. Empty: they stay the
	// system's.
	Shell string

	// landlockABI, when non-zero, replaces the kernel's Landlock ABI
	// (-1: none). Tests use it to simulate an older or Landlock-less kernel.
	landlockABI int
}

// helperSpec is the spec as the server resolved it; what the helper needs
// of it travels in the activation's plan (specwire.go: encodePlan).
// The parent resolves the roots so the helper has little to do before Bash
// starts.
type helperSpec struct {
	Mode    Mode
	Network bool
	// Read, Roots, WriteFiles and Mounts are the call's Layout.
	Read       []string
	Roots      []Root
	WriteFiles []string
	Mounts     []mountOp
	// Shell, mounted after Mounts, makes nested Bash the patched Bash.
	Shell *shellMount
	// Namespaces says the helper was started in new user, mount and pid
	// namespaces (as the first child of their pid 1, the supervisor).
	Namespaces bool
	// Proc asks for a /proc of the new pid namespace.
	Proc bool
	// Gate asks for the kernel gate (Spec.KernelGate).
	Gate bool
	// MaxProcs bounds the call's processes and threads (0: no bound),
	// in PidsCgroup when set (the helper joins it first), and with
	// RLIMIT_NPROC in the call's user namespace.
	MaxProcs   int
	PidsCgroup string
	// NProc: bound with RLIMIT_NPROC too (in the helper's own user
	// namespace, on Linux 5.14 or later).
	NProc bool
	// landlockABI overrides the kernel's ABI when non-zero (tests): the
	// server builds the ruleset for it (Spec.landlockABI).
	landlockABI int
	// Landlock says the activation carries the call's Landlock ruleset,
	// which the server built (buildRuleset) and the helper restricts
	// itself with, using LandlockFlags (landlock_restrict_self's flags).
	Landlock      bool
	LandlockFlags int
	// With namespaces the helper makes every mount read-only but
	// Writable, which it clones first and puts back: the shallowest
	// writable roots and the writable files outside them, with the
	// identities the server pinned for the ruleset (writableMounts), so
	// that the directories mounted writable are the ones the ruleset
	// grants. AllWritable (a writable "/") leaves every mount as it is;
	// it is the only way out of the read-only pass, so that a spec
	// without a keep list mounts everything read-only rather than
	// nothing.
	AllWritable bool
	Writable    []pathID
	// MountPoints are the mount points outside Writable, parents first,
	// for a helper that must make them read-only one by one: only where
	// the new mount API is refused (Capabilities.MountAPIError), since the
	// helper reads no mount table of its own.
	MountPoints []string
	// Seccomp is the main seccomp program and GateFilter the kernel
	// gate's (when Gate), as the kernel's struct sock_filter array: the
	// server assembles them (attachFilters), the helper loads them.
	Seccomp, GateFilter []byte
}

// fileID is a file's identity: device and inode.
type fileID struct{ Dev, Ino uint64 }

// pathID is a path with the identity the server pinned it as: the helper's
// own open of the path must find that very file.
type pathID struct {
	Path string
	ID   fileID
}
