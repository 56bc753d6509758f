package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/execgate/execgate/engine"
	"github.com/execgate/execgate/internal/testhelp"
)

// TestEngineSpareHelper: a call that runs in a spare sandbox helper (one
// the engine started ahead, after the previous call) is decided and
// confined exactly like one whose helper started for it.
func TestEngineSpareHelper(t *testing.T) {
	out := testhelp.PrivateDir(t)
	te := newTestEngine(t, testhelp.EngineRules(out), nil)
	if err := os.WriteFile(filepath.Join(out, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ws := t.TempDir()
	h := newHarness(t, te.opts, te, nil, ws)
	script := `tr '\0' ' ' </proc/$PPID/cmdline; echo
touch ` + out + `/allowed && echo escalated
touch ` + out + `/other 2>/dev/null || echo sandboxed
rm ` + out + `/keep || echo denied
echo hi > ` + ws + `/f && echo workspace-ok`
	var res engine.ShellOutput
	// The first call may start its helper cold; each one leaves a spare
	// for the next a moment after it ends.
	for i := range 20 {
		res = structured(t, h.call(t, map[string]any{"command": script, "workdir": ws, "login": false}, nil))
		if strings.Contains(res.Output, "execgate-nsexec --ns --spare") || strings.Contains(res.Output, "execgate-nsexec --no-ns --spare") {
			break
		}
		if i == 19 {
			t.Fatalf("no call ran in a spare helper; last output:\n%s", res.Output)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, want := range []string{"escalated\n", "sandboxed\n", "Execution denied: keep it\n", "denied\n", "workspace-ok\n"} {
		if !strings.Contains(res.Output, want) {
			t.Errorf("output lacks %q:\n%s", want, res.Output)
		}
	}
	if !testhelp.Exists(filepath.Join(out, "allowed")) || testhelp.Exists(filepath.Join(out, "other")) || !testhelp.Exists(filepath.Join(out, "keep")) {
		t.Errorf("files outside the roots: allowed %v (want true), other %v (want false), keep %v (want true)",
			testhelp.Exists(filepath.Join(out, "allowed")), testhelp.Exists(filepath.Join(out, "other")), testhelp.Exists(filepath.Join(out, "keep")))
	}
}
