package server

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/execgate/execgate/internal/testbash"
	"github.com/execgate/execgate/internal/testhelp"
)

// Codex starts MCP servers with only HOME, LANG, PATH, SHELL and TERM: a
// rules home other than ~/.codex is named with --codex-home, the server
// logs what it loaded from where, and without it says it found nothing.
func TestBinaryCodexHomeFlag(t *testing.T) {
	home := testhelp.RulesHome(t, `prefix_rule(pattern=["rm"], decision="forbidden", justification="rules from the flag")`+"\n")
	userHome := testhelp.PrivateDir(t) // no .codex in it
	for _, tt := range []struct {
		name   string
		flags  []string
		denied bool
		log    []string
	}{
		{"flag", []string{"--codex-home", home}, true, []string{"rules loaded", "home_from=\"flag --codex-home\"", filepath.Join(home, "rules", "test.rules")}},
		{"stripped environment", nil, false, []string{"no rules files found", "--codex-home", filepath.Join(userHome, ".codex")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(testhelp.Execgate(t), append([]string{"server", "--bash", testbash.Path(t)}, tt.flags...)...)
			cmd.Env = []string{"HOME=" + userHome, "LANG=C.UTF-8", "PATH=" + os.Getenv("PATH"), "SHELL=/bin/bash", "TERM=dumb"}
			stderr := &lockedBuilder{b: &strings.Builder{}}
			cmd.Stderr = stderr
			cs := connect(t, cmd, nil)
			ws := t.TempDir()
			r := callShell(t, cs, map[string]any{"command": "rm -f " + ws + "/nothing; echo $?", "workdir": ws, "login": false})
			if denied := strings.Contains(r.Output, "Execution denied: rules from the flag"); denied != tt.denied {
				t.Errorf("rm denied = %v, want %v (output %q)", denied, tt.denied, r.Output)
			}
			for _, want := range tt.log {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("log lacks %q:\n%s", want, stderr.String())
				}
			}
		})
	}
}
