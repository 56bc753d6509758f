package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEngineSpareHelper: a call that runs in a spare sandbox helper (one
// the engine started ahead, after the previous call) is decided and
// confined exactly like one whose helper started for it.
func TestEngineSpareHelper(t *testing.T) {
	out := privateDir(t)
	te := newTestEngine(t, engineRules(out), nil)
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
	var res ShellOutput
	// The first call may start its helper cold; each one leaves a spare
	// for the next a moment after it ends.
	for i := range 20 {
		res = structured(t, h.call(t, map[string]any{"command": script, "workdir": ws, "login": false}, nil))
		if strings.Contains(res.Output, "sandbox --spare") {
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
	if !exists(filepath.Join(out, "allowed")) || exists(filepath.Join(out, "other")) || !exists(filepath.Join(out, "keep")) {
		t.Errorf("files outside the roots: allowed %v (want true), other %v (want false), keep %v (want true)",
			exists(filepath.Join(out, "allowed")), exists(filepath.Join(out, "other")), exists(filepath.Join(out, "keep")))
	}
}
