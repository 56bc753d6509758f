package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEngineEscalatedEnvAllowList: with [execgate] escalated_env_allow in
// config.toml, an escalated command keeps only the listed variables (plus
// the PATH and HOME the server pins); without it, the deny-list alone
// applies.
func TestEngineEscalatedEnvAllowList(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config string
		want   []string // lines the escalated env must print
		absent []string // variable names it must not
	}{
		{name: "deny-list only", want: []string{"EG_KEEP=1", "EG_OTHER=2"}, absent: []string{"LD_PRELOAD="}},
		{name: "allow-list", config: "[execgate]\nescalated_env_allow = [\"EG_KEEP\", \"LC_*\"]\n",
			want: []string{"EG_KEEP=1", "LC_EG=3", "PATH=", "HOME="}, absent: []string{"EG_OTHER=", "LD_PRELOAD="}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			te := newTestEngine(t, `prefix_rule(pattern=["env"], decision="allow")`+"\n", func(*Options) {
				if tc.config != "" {
					writeFile(t, filepath.Join(os.Getenv("EXECGATE_HOME"), "config.toml"), tc.config)
				}
			})
			ws := t.TempDir()
			h := newHarness(t, te.opts, te, nil, ws)
			res := structured(t, h.call(t, map[string]any{
				"command": "EG_KEEP=1 EG_OTHER=2 LC_EG=3 LD_PRELOAD=/x.so env", "workdir": ws, "login": false}, nil))
			if res.ExitCode != 0 || len(res.Decisions) != 1 || res.Decisions[0].Decision != VerdictEscalate {
				t.Fatalf("exit %d decisions %+v output %q", res.ExitCode, res.Decisions, res.Output)
			}
			lines := strings.Split(res.Output, "\n")
			has := func(prefix string) bool {
				for _, l := range lines {
					if strings.HasPrefix(l, prefix) {
						return true
					}
				}
				return false
			}
			for _, w := range tc.want {
				if !has(w) {
					t.Errorf("escalated env lacks %q:\n%s", w, res.Output)
				}
			}
			for _, a := range tc.absent {
				if has(a) {
					t.Errorf("escalated env has %q:\n%s", a, res.Output)
				}
			}
		})
	}
}
