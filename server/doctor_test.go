package server

import (
	"strings"
	"testing"
)

func TestDoctor(t *testing.T) {
	var out, errOut strings.Builder
	code := doctor([]string{"--bash", "/bin/bash", "--sandbox", "read-only"}, &out, &errOut)
	if code != 1 {
		t.Errorf("exit %d, want 1 (stock bash, engine not wired)", code)
	}
	for _, want := range []string{
		"sandbox mode:     read-only (network off)",
		"patched Bash: MISSING: patched Bash from --bash: /bin/bash is not the patched Bash",
		"execution engine: NOT WIRED",
		`"args": [`, `"--sandbox"`, "[mcp_servers.execgate]",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out.String())
		}
	}
	if code := doctor([]string{"--sandbox", "bad"}, &out, &errOut); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
}
