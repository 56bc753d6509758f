package engine

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/execgate/execgate/internal/buildinfo"
	"github.com/execgate/execgate/internal/companion"
)

// TestReaperBinaryPairing: the companion reaper binary is used only when it
// carries this build's pairing stamp; otherwise, and when there is none or
// this binary has no stamp, execgate plays the reaper itself and says why.
func TestReaperBinaryPairing(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "execgate")
	if err := os.WriteFile(self, []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	reaper := filepath.Join(dir, companion.Sandbox)
	writeReaper := func(pair string) {
		t.Helper()
		script := "#!/bin/sh\n[ \"$1\" = pair ] && echo " + pair + "\n"
		if err := os.WriteFile(reaper, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.DiscardHandler)
	saved := buildinfo.Pair
	defer func() { buildinfo.Pair = saved }()

	buildinfo.Pair = "p1"
	if got, why := reaperBinary(self, "", log); got != self || !strings.Contains(why, "no "+companion.Sandbox) {
		t.Errorf("without a reaper binary: %q (%s)", got, why)
	}
	writeReaper("p1")
	if got, why := reaperBinary(self, "", log); got != reaper {
		t.Errorf("paired reaper binary not used: %q (%s)", got, why)
	}
	writeReaper("p0")
	if got, why := reaperBinary(self, "", log); got != self || !strings.Contains(why, "another build") {
		t.Errorf("reaper binary of another build: %q (%s)", got, why)
	}
	buildinfo.Pair = ""
	writeReaper("")
	if got, why := reaperBinary(self, "", log); got != self || !strings.Contains(why, "not built by `make build`") {
		t.Errorf("unstamped server: %q (%s)", got, why)
	}
}
