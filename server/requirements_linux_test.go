package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEngineAdminRequirements: a forbidden rule in the admin's
// requirements.toml wins over the user's allow rule for the same command,
// in a real call; commands it does not name keep the user's rules.
func TestEngineAdminRequirements(t *testing.T) {
	out := privateDir(t)
	system := privateDir(t) // not in /tmp, a writable root
	req := `[rules]
prefix_rules = [
  { pattern = [{ token = "touch" }, { token = "` + filepath.Join(out, "allowed") + `" }], decision = "forbidden", justification = "the admin says no" },
]
`
	if err := os.WriteFile(filepath.Join(system, "requirements.toml"), []byte(req), 0o644); err != nil {
		t.Fatal(err)
	}
	rules := engineRules(out) + `prefix_rule(pattern=["touch", "` + filepath.Join(out, "other") + `"], decision="allow")` + "\n"
	te := newTestEngine(t, rules, func(o *Options) { o.systemDir = system })
	ws := t.TempDir()
	h := newHarness(t, te.opts, te, nil, ws)

	res := structured(t, h.call(t, map[string]any{"command": "touch " + out + "/allowed", "workdir": ws, "login": false}, nil))
	if res.ExitCode != 1 || !strings.Contains(res.Output, "Execution denied: the admin says no") {
		t.Errorf("exit %d output %q, want the requirement's denial", res.ExitCode, res.Output)
	}
	if exists(filepath.Join(out, "allowed")) {
		t.Error("the user's allow rule overrode the admin's forbidden one")
	}
	if len(res.Decisions) != 1 || !strings.HasPrefix(res.Decisions[0].Rule, filepath.Join(system, "requirements.toml")) {
		t.Errorf("decisions %+v, want one naming requirements.toml", res.Decisions)
	}

	res = structured(t, h.call(t, map[string]any{"command": "touch " + out + "/other", "workdir": ws, "login": false}, nil))
	if res.ExitCode != 0 || !exists(filepath.Join(out, "other")) {
		t.Errorf("exit %d output %q: the user's allow rule for another command should still escalate", res.ExitCode, res.Output)
	}
}
