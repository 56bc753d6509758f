package server

import (
	"strings"
	"testing"
)

func TestDoctor(t *testing.T) {
	t.Setenv("EXECGATE_HOME", t.TempDir())
	var out, errOut strings.Builder
	code := doctor([]string{"--bash", "/bin/bash", "--sandbox", "read-only"}, &out, &errOut)
	if code != 1 {
		t.Errorf("exit %d, want 1 (stock bash refused)", code)
	}
	for _, want := range []string{
		"sandbox mode:     read-only (network off)",
		"execution engine: FAILED: /bin/bash: Bash does not honour EXEC_WRAPPER",
		"scripts/build-bash.sh",
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
