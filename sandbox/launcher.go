package sandbox

import (
	"errors"
	"log/slog"
)

// Launcher starts sandboxed commands. It probes the machine once, so that
// every call agrees on what is enforced and the fallback is logged once.
type Launcher struct {
	// nsexec is the sandbox launcher and helper (see NamespaceLauncher).
	nsexec string
	caps   Capabilities
	pids   pidsBound // the bound on each call's processes

	spares sparePool // helpers started ahead of calls (see Prepare)
	// observe, if set, learns every started call's Protection (Observe).
	observe func(Protection)
}

// An Option changes how a Launcher starts helpers.
type Option func(*Launcher)

// NamespaceLauncher is the sandbox launcher, path, the execgate-nsexec
// program built from nsexec/*.c. It starts every call's helper, in new
// user, mount and pid namespaces when the machine allows them, applies the
// plan the server made for the call, and supervises the call (see
// command_linux.go). Go cannot vfork a child that gets a new user
// namespace, nor supervise without a runtime's threads, and a Go runtime's
// start was most of a call's CPU; a small static C program does all of it.
// Without it (empty path) no call runs on Linux:
// Capabilities.LauncherError says why.
func NamespaceLauncher(path string) Option {
	return func(l *Launcher) { l.nsexec = path }
}

// NewLauncher probes the machine and logs (to log, if not nil) what cannot
// be enforced.
func NewLauncher(log *slog.Logger, opts ...Option) *Launcher {
	l := &Launcher{}
	for _, o := range opts {
		o(l)
	}
	l.caps = Probe(l.nsexec)
	l.probePids(log)
	if log != nil {
		if l.caps.LauncherError != "" {
			log.Error("no call will run", "err", l.caps.LauncherError)
		} else if err := l.caps.Check(ReadOnly); err != nil {
			log.Warn("sandboxed modes will be refused", "err", err)
		} else if !l.caps.Namespaces {
			log.Warn("sandbox without namespaces: Landlock and seccomp only; .git, .codex and .agents in writable roots are not protected, nor are "+AttributesUnprotected,
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
	var shell *shellMount
	if o.namespaces {
		shell = nestedShell(spec.Shell, lay.Roots)
	}
	h := helperSpec{
		Shell:       shell,
		Mode:        spec.Policy.Mode,
		Network:     spec.Policy.Network(),
		Read:        lay.Read,
		Roots:       lay.Roots,
		WriteFiles:  lay.WriteFiles,
		Mounts:      lay.mounts,
		Namespaces:  o.namespaces,
		MaxProcs:    l.pids.max,
		NProc:       o.namespaces && l.pids.rlimit(l.caps),
		Proc:        l.caps.ProcMount,
		landlockABI: spec.landlockABI,
		Gate:        spec.KernelGate,
	}
	if err := h.attachFilters(); err != nil {
		return helperSpec{}, err
	}
	return h, nil
}
