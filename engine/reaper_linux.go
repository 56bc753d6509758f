package engine

import (
	"context"
	"log/slog"
	"os/exec"
	"strings"
	"time"

	"github.com/execgate/execgate/internal/buildinfo"
	"github.com/execgate/execgate/internal/companion"
)

// reaperBinary is the program that plays each escalated call's escalate
// reaper: execgate-sandbox from the same `make build` as this server when
// there is one (next to this binary, else next to the patched Bash, where
// `make install` puts it), else this binary itself. The lighter binary
// starts in about half the CPU time (cmd/execgate-sandbox says how much).
// why says which and, when the companion is not used, why not. (The
// sandbox helper is the C launcher's: companion.NSExec.)
func reaperBinary(self, bash string, log *slog.Logger) (path, why string) {
	found, err := companion.Path(companion.Sandbox, self, bash)
	switch {
	case err != nil:
		log.Warn("escalate reaper binary not used; execgate plays it itself", "error", err)
		return self, "this binary (" + err.Error() + ")"
	case found == "":
		return self, "this binary (no " + companion.Sandbox + " beside it or the patched Bash; `make build` builds one)"
	case buildinfo.Pair == "":
		return self, "this binary (it was not built by `make build`, so " + found + " cannot be matched to it)"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, found, "pair").Output()
	if err != nil || strings.TrimSpace(string(out)) != buildinfo.Pair {
		log.Warn("escalate reaper binary from another build; execgate plays it itself", "reaper", found, "error", err)
		return self, "this binary (" + found + " is from another build)"
	}
	return found, companion.Sandbox + ", built with this binary"
}
