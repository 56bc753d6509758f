package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
)

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
	// on every program start of the call, announced to (and answered by)
	// the escalate session on fd 3, which must take the announcement
	// (escalate.Options.OnGate). See gate_linux.go.
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

// helperSpec is the spec as the helper receives it on its command line.
// The parent resolves the roots so the helper has little to do before Bash
// starts.
type helperSpec struct {
	Mode    Mode `json:"mode"`
	Network bool `json:"network,omitempty"`
	// Read, Roots, WriteFiles and Mounts are the call's Layout.
	Read       []string  `json:"read,omitempty"`
	Roots      []Root    `json:"roots,omitempty"`
	WriteFiles []string  `json:"wfiles,omitempty"`
	Mounts     []mountOp `json:"mounts,omitempty"`
	// Shell, mounted after Mounts, makes nested Bash the patched Bash.
	Shell *shellMount `json:"shell,omitempty"`
	// Namespaces says the helper was started in new user, mount and pid
	// namespaces (it is pid 1 there).
	Namespaces bool `json:"ns,omitempty"`
	// Proc asks for a /proc of the new pid namespace.
	Proc bool `json:"proc,omitempty"`
	// Stage2 marks the second stage of a helper without namespaces: it
	// confines itself and execs Bash, while the first stage stays outside
	// the sandbox to reap and clean up.
	Stage2 bool `json:"stage2,omitempty"`
	// Gate asks for the kernel gate (Spec.KernelGate).
	Gate bool `json:"gate,omitempty"`
	// MaxProcs bounds the call's processes and threads (0: no bound),
	// in PidsCgroup when set (the helper joins it first), and with
	// RLIMIT_NPROC in the call's user namespace.
	MaxProcs   int    `json:"nproc,omitempty"`
	PidsCgroup string `json:"pids,omitempty"`
	// NProc: bound with RLIMIT_NPROC too (in the helper's own user
	// namespace, on Linux 5.14 or later).
	NProc bool `json:"rlimit,omitempty"`
	// PidsHome is the cgroup the helper starts in, which it returns to
	// once the program has started in PidsCgroup.
	PidsHome string `json:"pidshome,omitempty"`
	// LandlockABI overrides the kernel's ABI when non-zero (tests).
	LandlockABI int `json:"abi,omitempty"`
}

func (h helperSpec) encode() (string, error) {
	b, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("sandbox: encode helper spec: %w", err)
	}
	return string(b), nil
}

// parseHelperArgs splits `SPEC -- ARGV...`. runSpec checks the spec, as it
// does one a spare received.
func parseHelperArgs(args []string) (helperSpec, []string, error) {
	var h helperSpec
	if len(args) < 3 || args[1] != "--" {
		return h, nil, errors.New("usage: execgate sandbox SPEC -- PROGRAM [ARGS...]")
	}
	if err := json.Unmarshal([]byte(args[0]), &h); err != nil {
		return h, nil, fmt.Errorf("bad spec %q: %w", args[0], err)
	}
	return h, args[2:], nil
}
