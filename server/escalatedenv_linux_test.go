package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/execgate/execgate/engine"
	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/testbash"
	"github.com/execgate/execgate/internal/testhelp"
)

// TestEngineEscalatedEnv: an escalated command gets the server's
// environment plus, from the script, only the presentation variables
// (escalate.ShellDefaults) and what [execgate] escalated_env_allow adds;
// PATH and HOME stay the server's whatever the script or the config says.
func TestEngineEscalatedEnv(t *testing.T) {
	t.Setenv("EG_SERVER", "server-value")
	for _, tc := range []struct {
		name   string
		config string
		want   []string // lines the escalated env must print
		absent []string // lines or names it must not
	}{
		{name: "defaults", want: []string{"EG_SERVER=server-value", "TZ=UTC", "LC_EG=3", "PATH=" + os.Getenv("PATH")},
			absent: []string{"EG_KEEP=", "EG_OTHER=", "EGP_X=", "LD_PRELOAD=", "CURL_HOME=", "PATH=/ws", "HOME=/ws"}},
		{name: "escalated_env_allow", config: "[execgate]\nescalated_env_allow = [\"EG_KEEP\", \"EGP_*\"]\n",
			want:   []string{"EG_SERVER=server-value", "EG_KEEP=1", "EGP_X=4", "LC_EG=3", "TZ=UTC", "PATH=" + os.Getenv("PATH")},
			absent: []string{"EG_OTHER=", "LD_PRELOAD=", "CURL_HOME=", "PATH=/ws", "HOME=/ws"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			te := newTestEngine(t, `prefix_rule(pattern=["env"], decision="allow")`+"\n", func(*engine.Options) {
				if tc.config != "" {
					testhelp.WriteFile(t, filepath.Join(os.Getenv("EXECGATE_HOME"), "config.toml"), tc.config)
				}
			})
			ws := t.TempDir()
			h := newHarness(t, te.opts, te, nil, ws)
			res := structured(t, h.call(t, map[string]any{
				"command": "EG_KEEP=1 EG_OTHER=2 LC_EG=3 EGP_X=4 TZ=UTC LD_PRELOAD=/x.so CURL_HOME=/ws PATH=/ws:$PATH HOME=/ws env",
				"workdir": ws, "login": false}, nil))
			if res.ExitCode != 0 || len(res.Decisions) != 1 || res.Decisions[0].Decision != escalate.Escalate {
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

// TestEngineEscalatedEnvAllowPinned: escalated_env_allow cannot take PATH
// or HOME from the shell; the server refuses to start, naming the key.
func TestEngineEscalatedEnvAllowPinned(t *testing.T) {
	home := testhelp.RulesHome(t, "")
	t.Setenv("EXECGATE_HOME", home)
	testhelp.WriteFile(t, filepath.Join(home, "config.toml"), "[execgate]\nescalated_env_allow = [\"LC_*\", \"PATH\"]\n")
	opts := engine.DefaultOptions()
	opts.Bash, opts.Explicit["bash"] = testbash.Path(t), true
	opts.Executable = testhelp.Execgate(t)
	e, err := engine.New(opts, testhelp.Logger(nil))
	if err == nil {
		e.Close()
		t.Fatal("the engine started with PATH in escalated_env_allow")
	}
	if !strings.Contains(err.Error(), "escalated_env_allow") || !strings.Contains(err.Error(), "PATH") {
		t.Errorf("error %q does not name the key and the variable", err)
	}
}
