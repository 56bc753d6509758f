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

// Layout is the layout calls under spec get on this machine: without user
// namespaces, execgate's protected paths are missing from it (they are not
// enforced), and a layout that needs other mounts is an error.
func (l *Launcher) Layout(spec Spec) (Layout, error) {
	if err := spec.Policy.Validate(); err != nil {
		return Layout{}, err
	}
	return spec.layout(l.layoutOptions(spec))
}

func (l *Launcher) layoutOptions(spec Spec) layoutOptions {
	ns := spec.Policy.Sandboxed() && l.caps.Namespaces
	return layoutOptions{namespaces: ns, privateProc: ns && l.caps.ProcMount}
}

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
	o := l.layoutOptions(spec)
	lay, err := spec.layout(o)
	if err != nil {
		return helperSpec{}, err
	}
	return helperSpec{
		Mode:        spec.Policy.Mode,
		Network:     spec.Policy.Network(),
		Read:        lay.Read,
		Roots:       lay.Roots,
		WriteFiles:  lay.WriteFiles,
		Mounts:      lay.mounts,
		Namespaces:  o.namespaces,
		Proc:        l.caps.ProcMount,
		LandlockABI: spec.landlockABI,
	}, nil
}
