package sandbox

import (
	"errors"
	"log/slog"
)

// Launcher starts sandboxed commands. It probes the machine once, so that
// every call agrees on what is enforced and the fallback is logged once.
type Launcher struct {
	self string
	caps Capabilities

	spares sparePool // helpers started ahead of calls (see Prepare)
	// observe, if set, learns every started call's Protection (Observe).
	observe func(Protection)
}

// NewLauncher probes the machine with self, the execgate binary that plays
// the helper role, and logs (to log, if not nil) what cannot be enforced.
func NewLauncher(self string, log *slog.Logger) *Launcher {
	l := &Launcher{self: self, caps: Probe(self)}
	if log != nil {
		if err := l.caps.Check(ReadOnly); err != nil {
			log.Warn("sandboxed modes will be refused", "err", err)
		} else if !l.caps.Namespaces {
			log.Warn("sandbox without namespaces: Landlock and seccomp only; .git, .codex and .agents in writable roots are not protected",
				"reason", l.caps.NamespacesError)
		}
	}
	return l
}

// Capabilities returns what the launcher found at startup.
func (l *Launcher) Capabilities() Capabilities { return l.caps }

// helperSpec checks that spec can be enforced here and resolves what the
// helper needs to know.
func (l *Launcher) helperSpec(spec Spec, argv []string) (helperSpec, error) {
	if len(argv) == 0 {
		return helperSpec{}, errors.New("sandbox: empty command")
	}
	if err := spec.Policy.Validate(); err != nil {
		return helperSpec{}, err
	}
	if err := l.caps.check(spec.Policy.Mode, spec.landlockABI); err != nil {
		return helperSpec{}, err
	}
	roots, err := spec.Roots()
	if err != nil {
		return helperSpec{}, err
	}
	return helperSpec{
		Mode:        spec.Policy.Mode,
		Network:     spec.Policy.Network(),
		Roots:       roots,
		Namespaces:  spec.Policy.Sandboxed() && l.caps.Namespaces,
		Proc:        l.caps.ProcMount,
		LandlockABI: spec.landlockABI,
	}, nil
}
