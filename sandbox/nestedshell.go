package sandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
)

// shellMount is the patched Bash the helper mounts, read-only, over the
// system's Bash in the call's mount namespace, so that a nested `bash -c`,
// `/bin/bash -c` or a `#!/bin/bash` script is the patched Bash too and its
// program starts are decided like the call's own (it finds the escalate
// socket and the wrapper in the environment it inherits). `sh` is left
// alone: it stays whatever the system's shell is.
type shellMount struct {
	Source  string
	Targets []string
}

// systemShellNames are where programs look for Bash by absolute path
// (shebang lines, scripts); a PATH lookup of "bash" is added to them.
var systemShellNames = []string{"/bin/bash", "/usr/bin/bash"}

// nestedShell is the shell mount for the patched Bash at shell: the system
// Bash files (symlinks resolved, each once) that exist, are regular files,
// are not the patched Bash itself and lie outside every writable root (a
// Bash the agent may write is the agent's, not the system's). nil when
// there is nothing to cover.
func nestedShell(shell string, roots []Root) *shellMount {
	if shell == "" {
		return nil
	}
	src, err := filepath.EvalSymlinks(shell)
	if err != nil {
		return nil
	}
	srcInfo, err := os.Stat(src)
	if err != nil {
		return nil
	}
	cands := slices.Clone(systemShellNames)
	// The server's PATH is the call's: the Bash `bash` finds there.
	if p, err := exec.LookPath("bash"); err == nil && filepath.IsAbs(p) {
		cands = append(cands, p)
	}
	var targets []string
	for _, c := range cands {
		real, err := filepath.EvalSymlinks(c)
		if err != nil || slices.Contains(targets, real) || inWritableRoot(real, roots) {
			continue
		}
		fi, err := os.Stat(real)
		if err != nil || !fi.Mode().IsRegular() || os.SameFile(fi, srcInfo) {
			continue
		}
		targets = append(targets, real)
	}
	if len(targets) == 0 {
		return nil
	}
	return &shellMount{Source: src, Targets: targets}
}

// ShellTargets are the system Bash files a call's sandbox on this machine
// replaces with the patched Bash at shell, for doctor: none without user
// namespaces (nested Bash is then the system's, unpatched).
func (l *Launcher) ShellTargets(shell string) []string {
	if !l.caps.Namespaces {
		return nil
	}
	if m := nestedShell(shell, nil); m != nil {
		return m.Targets
	}
	return nil
}

func inWritableRoot(p string, roots []Root) bool {
	for _, r := range roots {
		if within(p, r.Path) {
			return true
		}
	}
	return false
}
