package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/execgate/execgate/engine"
	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/testhelp"
)

// An allow rule escalates a dangerous command without asking only when it
// names what makes the command dangerous (`rm -f`, not just `rm`); else the
// user is asked, and a client that cannot ask gets a denial saying which
// rule would allow it. With dangerous_commands = "ask" an allow rule
// decides alone, as in Codex.
func TestEngineDangerousAllowRule(t *testing.T) {
	tests := []struct {
		name, rules, config string
		want                escalate.Action
		wantOut             string
	}{
		{name: "rule names the program only", rules: `prefix_rule(pattern=["rm"], decision="allow")`, want: escalate.Deny,
			wantOut: `Execution denied: approval needed but the MCP client cannot prompt (no elicitation capability); to allow it, add prefix_rule(pattern=["rm", "-f"], decision="allow")`},
		{name: "rule names the dangerous prefix", rules: `prefix_rule(pattern=["rm", "-f"], decision="allow")`, want: escalate.Escalate},
		{name: "Codex's behaviour", rules: `prefix_rule(pattern=["rm"], decision="allow")`, config: "[execgate]\ndangerous_commands = \"ask\"\n", want: escalate.Escalate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := testhelp.PrivateDir(t)
			victim := filepath.Join(out, "victim")
			testhelp.WriteFile(t, victim, "")
			te := newTestEngine(t, tt.rules+"\n", func(*engine.Options) {
				if tt.config != "" {
					testhelp.WriteFile(t, filepath.Join(os.Getenv("EXECGATE_HOME"), "config.toml"), tt.config)
				}
			})
			ws := t.TempDir()
			h := newHarness(t, te.opts, te, nil, ws)
			r := structured(t, h.call(t, map[string]any{"command": "rm -f " + victim, "workdir": ws, "login": false}, nil))
			if len(r.Decisions) != 1 || r.Decisions[0].Decision != tt.want {
				t.Fatalf("decisions %+v, want one %s", r.Decisions, tt.want)
			}
			if testhelp.Exists(victim) != (tt.want != escalate.Escalate) {
				t.Errorf("victim exists %v after %s", testhelp.Exists(victim), tt.want)
			}
			if !strings.Contains(r.Output, tt.wantOut) {
				t.Errorf("output %q lacks %q", r.Output, tt.wantOut)
			}
		})
	}
}
