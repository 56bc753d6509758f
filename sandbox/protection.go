package sandbox

// Protection is what one started call may write: nothing in read-only mode;
// in workspace-write the writable roots except, when Enforced, the
// protected paths inside them; everything in danger-full-access. It is
// derived from the helper spec the helper receives, so it states what the
// helper enforces rather than what a caller believes it would: every path
// the helper keeps read-only, from whatever source (the default protected
// names, a gitdir a `.git` file points to, a client's read-only carve-outs),
// must reach the helper through Roots.
type Protection struct {
	Mode Mode
	// Roots are the writable roots, symlinks resolved, each with the paths
	// inside it the helper makes read-only mount points.
	Roots []Root
	// Enforced says the helper keeps the protected paths read-only (it has
	// user and mount namespaces). Without it everything inside Roots is
	// writable.
	Enforced bool
}

// Unconfined reports whether the call may write anywhere the user can.
func (p Protection) Unconfined() bool { return p.Mode == DangerFullAccess }

// protection is what h makes the helper enforce.
func (h helperSpec) protection() Protection {
	return Protection{Mode: h.Mode, Roots: h.Roots, Enforced: h.Namespaces}
}

// Observe registers f to learn the Protection of every call Start starts,
// before the call's helper runs anything: code that must know what the
// sandbox has kept read-only learns it here instead of recomputing it. Call
// it once, before the first Start.
func (l *Launcher) Observe(f func(Protection)) { l.observe = f }

// Protection returns what a call under spec would be kept from writing, as
// Start would hand it to the helper, without starting anything (for
// reports such as `execgate doctor`).
func (l *Launcher) Protection(spec Spec) (Protection, error) {
	h, err := l.helperSpec(spec, []string{"-"})
	if err != nil {
		return Protection{}, err
	}
	return h.protection(), nil
}
