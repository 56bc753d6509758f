package security

import (
	"os"
	"strings"
	"testing"
)

// TestHarnessDetectsEscape is the control for every attack test: with a rule
// that allows the payload's shell outright, the payload does run outside the
// sandbox and the harness sees it; without the rule, it stays confined. An
// attack test that passes while this one fails proves nothing.
func TestHarnessDetectsEscape(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: `prefix_rule(pattern=["sh", "-c"], decision="allow")` + "\n"})
		res := w.shell(t, "sh -c "+shq(w.payload("allowed")))
		if !w.escaped("allowed") {
			t.Fatalf("an allowed sh -c did not run outside the sandbox: exit %d output %q decisions %+v", res.ExitCode, res.Output, res.Decisions)
		}
		b, _ := os.ReadFile(w.marker("allowed"))
		t.Logf("escaped payload wrote %q", b)
		res = w.shell(t, "dash -c "+shq(w.payload("confined")))
		w.assertConfined(t, "confined", res)
		if !strings.Contains(res.Output, "Permission denied") && !strings.Contains(res.Output, "Read-only") {
			t.Errorf("the confined payload's write was not refused: %q", res.Output)
		}
	})
}
