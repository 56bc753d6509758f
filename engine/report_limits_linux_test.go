package engine

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestEngineReportSandboxLimits: `execgate doctor` says what a nested Bash
// is in a call and how the call's processes are bounded.
func TestEngineReportSandboxLimits(t *testing.T) {
	te := newTestEngine(t, "", func(o *Options) { o.MaxProcesses = 77 })
	var b strings.Builder
	te.Report(&b)
	out := b.String()
	nested := "the patched Bash, mounted read-only over "
	if !te.launcher.Capabilities().Namespaces {
		nested = "the system's Bash, UNPATCHED"
	} else if sys, err := filepath.EvalSymlinks("/bin/bash"); err == nil {
		nested += sys
	}
	bound := "process bound:      77 per call ("
	if strings.Contains(out, "process bound:      NONE") {
		bound = "process bound:      NONE: "
	}
	for _, want := range []string{"nested Bash:\n  sandboxed modes:    " + nested, bound} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}

	te = newTestEngine(t, "", func(o *Options) { o.MaxProcesses = 0 })
	b.Reset()
	te.Report(&b)
	if !strings.Contains(b.String(), "process bound:      none (max_processes = 0)") {
		t.Errorf("report with no bound:\n%s", b.String())
	}
}
