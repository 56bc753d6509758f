package loginenv

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// optionVariables are the environment variables that change a
// non-interactive Bash's options at startup.
var optionVariables = []string{"SHELLOPTS", "BASHOPTS", "POSIXLY_CORRECT"}

// BareOptions returns the option lines (`shopt -p`, `set +o`) of bash
// started as `bash -c` with env, without any startup file: what
// RenderOptions.Bare compares a snapshot's options with. Only the
// variables that set options are passed on, and the command runs builtins
// only: nothing but bash itself runs, so it needs no sandbox.
func BareOptions(ctx context.Context, bash string, env []string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "--norc", "--noprofile", "-c", `\builtin shopt -p; \builtin set +o`)
	cmd.Env = []string{}
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		for _, v := range optionVariables {
			if name == v {
				cmd.Env = append(cmd.Env, kv)
			}
		}
	}
	cmd.Dir = "/"
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("options of a bare %s: %w (%s)", bash, err, truncate(errOut.String(), 200))
	}
	return lines(out.String()), nil
}

// Replayable reports whether a non-interactive Bash started with env reads
// BASH_ENV (and so can replay a snapshot): in POSIX mode it does not. A
// login shell in POSIX mode does not read the profile either.
func Replayable(env []string) bool {
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		switch name {
		case "POSIXLY_CORRECT":
			return false
		case "SHELLOPTS":
			if strings.Contains(":"+value+":", ":posix:") {
				return false
			}
		}
	}
	return true
}
