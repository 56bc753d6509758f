package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"
)

// Probe inspects the kernel. nsexec is the sandbox launcher (see
// NamespaceLauncher): the namespace check runs its self-test role, started
// the way a call's helper is, so that AppArmor or container restrictions on
// user namespaces show up.
func Probe(nsexec string) Capabilities {
	c := Capabilities{OS: "linux", LandlockABI: landlockABI()}
	if err := seccompAvailable(); err != nil {
		c.SeccompError = err.Error()
	} else {
		c.Seccomp = true
	}
	if err := gateAvailable(); err != nil {
		c.KernelGateError = err.Error()
	} else if err := listenerAllowed(); err != nil {
		c.KernelGateError = err.Error()
	} else {
		c.KernelGate = c.Seccomp
	}
	if nsexec == "" {
		c.LauncherError = errNoLauncher.Error()
		c.NamespacesError = "not probed (no sandbox launcher)"
		return c
	}
	report, err := probeNamespaces(nsexec)
	if err != nil {
		c.NamespacesError = err.Error()
		// Without namespaces calls still start through the launcher:
		// one that cannot start them either (from another build, say)
		// is no launcher at all.
		if lerr := probeLauncher(nsexec); lerr != nil {
			c.LauncherError = fmt.Sprintf("the sandbox launcher %s does not work (%v); rebuild it with `make bash`", nsexec, lerr)
		}
		return c
	}
	c.Namespaces = true
	c.ProcMountError = report["proc"]
	c.ProcMount = c.ProcMountError == ""
	c.MountAPIError = report["mountapi"]
	return c
}

// probeNamespaces runs the helper's self-test in new namespaces, made by
// nsexec (see NamespaceLauncher). Its report names what works only in part
// there, with why: "proc" (/proc could not be mounted), "mountapi" (the
// new mount API is refused).
func probeNamespaces(nsexec string) (report map[string]string, err error) {
	out, err := runLauncherRole(nsexec, true, probeNamespacesArg)
	if err != nil {
		return nil, err
	}
	report = map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if name, why, ok := strings.Cut(line, ": "); ok {
			report[name] = why
		}
	}
	return report, nil
}

// probeLauncher starts the launcher's do-nothing role without namespaces,
// as a call without them would be started.
func probeLauncher(nsexec string) error {
	_, err := runLauncherRole(nsexec, false, probeLauncherArg)
	return err
}

// runLauncherRole runs the launcher in role (with namespaces or not) and
// returns its output; its error says what the launcher printed on stderr.
func runLauncherRole(nsexec string, ns bool, role string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l := Launcher{nsexec: nsexec}
	cmd, err := l.helperCommand(ctx, ns, role)
	if err != nil {
		return "", err
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", fmt.Errorf("%s %s: %w: %s", nsexec, role, err, msg)
		}
		return "", fmt.Errorf("%s %s: %w", nsexec, role, err)
	}
	return stdout.String(), nil
}
