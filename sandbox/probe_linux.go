package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"
)

// Probe inspects the kernel. self is the execgate binary (the helper) and
// nsexec the sandbox launcher (see NamespaceLauncher): the namespace check
// runs the helper in its self-test role, started the way a call's is, so
// that AppArmor or container restrictions on user namespaces show up. An
// empty self skips that check.
func Probe(self, nsexec string) Capabilities {
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
	if self == "" {
		c.NamespacesError = "not probed (no helper binary given)"
		return c
	}
	if nsexec == "" {
		c.LauncherError = errNoLauncher.Error()
		c.NamespacesError = "not probed (no sandbox launcher)"
		return c
	}
	procErr, err := probeNamespaces(self, nsexec)
	if err != nil {
		c.NamespacesError = err.Error()
		// Without namespaces calls still start through the launcher:
		// one that cannot start them either (from another build, say)
		// is no launcher at all.
		if lerr := probeLauncher(self, nsexec); lerr != nil {
			c.LauncherError = fmt.Sprintf("the sandbox launcher %s does not work (%v); rebuild it with `make bash`", nsexec, lerr)
		}
		return c
	}
	c.Namespaces = true
	if procErr != "" {
		c.ProcMountError = procErr
	} else {
		c.ProcMount = true
	}
	return c
}

// probeNamespaces runs the helper's self-test in new namespaces, made by
// nsexec (see NamespaceLauncher). procErr is why /proc could
// not be mounted there ("" when it could).
func probeNamespaces(self, nsexec string) (procErr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l := Launcher{self: self, nsexec: nsexec}
	cmd, err := l.helperCommand(ctx, true, "sandbox", probeNamespacesArg)
	if err != nil {
		return "", err
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", fmt.Errorf("%w: %s", err, msg)
		}
		return "", err
	}
	return strings.TrimSpace(stdout.String()), nil
}

// probeLauncher starts the helper's do-nothing role through nsexec
// without namespaces, as a call without them would be started.
func probeLauncher(self, nsexec string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l := Launcher{self: self, nsexec: nsexec}
	cmd, err := l.helperCommand(ctx, false, "sandbox", probeLauncherArg)
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("%w: %s", err, msg)
		}
		return err
	}
	return nil
}

// probeNamespacesChild is the self-test: everything a call's helper does
// with its namespaces, on paths that exist everywhere.
func probeNamespacesChild() int {
	if !inCallNamespaces() {
		return helperFail(fmt.Errorf("not in a new pid namespace"))
	}
	if err := applyMounts(nil, nil, false); err != nil {
		return helperFail(err)
	}
	if err := bindView("/", true); err != nil {
		return helperFail(fmt.Errorf("read-only bind mount: %w", err))
	}
	if err := mountProc(); err != nil {
		fmt.Println(err) // not fatal: see Capabilities.ProcMount
	}
	return 0
}
