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

// TestSandboxHelperPairing: the companion helper is used only when it
// carries this build's pairing stamp; otherwise, and when there is none or
// this binary has no stamp, execgate plays the helper itself and says why.
func TestSandboxHelperPairing(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "execgate")
	if err := os.WriteFile(self, []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	helper := filepath.Join(dir, companion.Sandbox)
	writeHelper := func(pair string) {
		t.Helper()
		script := "#!/bin/sh\n[ \"$1\" = pair ] && echo " + pair + "\n"
		if err := os.WriteFile(helper, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.DiscardHandler)
	saved := buildinfo.Pair
	defer func() { buildinfo.Pair = saved }()

	buildinfo.Pair = "p1"
	if got, why := sandboxHelper(self, "", log); got != self || !strings.Contains(why, "no "+companion.Sandbox) {
		t.Errorf("without a helper: %q (%s)", got, why)
	}
	writeHelper("p1")
	if got, why := sandboxHelper(self, "", log); got != helper {
		t.Errorf("paired helper not used: %q (%s)", got, why)
	}
	writeHelper("p0")
	if got, why := sandboxHelper(self, "", log); got != self || !strings.Contains(why, "another build") {
		t.Errorf("helper of another build: %q (%s)", got, why)
	}
	buildinfo.Pair = ""
	writeHelper("")
	if got, why := sandboxHelper(self, "", log); got != self || !strings.Contains(why, "not built by `make build`") {
		t.Errorf("unstamped server: %q (%s)", got, why)
	}
}
