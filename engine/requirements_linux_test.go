package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/execgate/execgate/internal/testhelp"
)

// TestEngineAdminRequirements: a forbidden rule in the admin's
// requirements.toml wins over the user's allow rule for the same command,
// in a real call; commands it does not name keep the user's rules.
func TestEngineAdminRequirements(t *testing.T) {
	out := testhelp.PrivateDir(t)
	system := testhelp.PrivateDir(t) // not in /tmp, a writable root
	req := `[rules]
prefix_rules = [
  { pattern = [{ token = "touch" }, { token = "` + filepath.Join(out, "allowed") + `" }], decision = "forbidden", justification = "the admin says no" },
]
`
	if err := os.WriteFile(filepath.Join(system, "requirements.toml"), []byte(req), 0o644); err != nil {
		t.Fatal(err)
	}
	rules := testhelp.EngineRules(out) + `prefix_rule(pattern=["touch", "` + filepath.Join(out, "other") + `"], decision="allow")` + "\n"
	te := newTestEngine(t, rules, func(o *Options) { o.systemDir = system })
	ws := t.TempDir()

	res := te.shell(t, "touch "+out+"/allowed", ws, ws)
	if res.ExitCode != 1 || !strings.Contains(res.Output, "Execution denied: the admin says no") {
		t.Errorf("exit %d output %q, want the requirement's denial", res.ExitCode, res.Output)
	}
	if testhelp.Exists(filepath.Join(out, "allowed")) {
		t.Error("the user's allow rule overrode the admin's forbidden one")
	}
	if len(res.Decisions) != 1 || !strings.HasPrefix(res.Decisions[0].Rule, filepath.Join(system, "requirements.toml")) {
		t.Errorf("decisions %+v, want one naming requirements.toml", res.Decisions)
	}

	res = te.shell(t, "touch "+out+"/other", ws, ws)
	if res.ExitCode != 0 || !testhelp.Exists(filepath.Join(out, "other")) {
		t.Errorf("exit %d output %q: the user's allow rule for another command should still escalate", res.ExitCode, res.Output)
	}
}
