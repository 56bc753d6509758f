package security

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/execgate/execgate/internal/codexfixture"
)

// TestProfileDenyInsideWritableRoot attacks a path a Codex 0.171
// permission profile denies inside a writable root (the captured
// dp-custom profile: <extra> writable, <extra>/secret denied): reading it
// directly, through /proc/self/root, by hard link, copy or a search, moving
// or removing the directory to get at it, or writing into it must all fail,
// and the file must be intact afterwards.
func TestProfileDenyInsideWritableRoot(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{})
		extra := userDir(t, u, "/var/tmp", "extra")
		secret := filepath.Join(extra, "secret")
		mkdirOwned(t, u, secret)
		writeOwned(t, u, filepath.Join(secret, "key"), "TOPSECRET\n")
		var state map[string]any
		if err := json.Unmarshal(codexfixture.State(t, "dp-custom", codexfixture.Paths{Work: w.WS, Extra: extra, Home: w.Home}), &state); err != nil {
			t.Fatal(err)
		}
		meta := mcp.Meta{"codex/sandbox-state": state, "codex/sandbox-state-meta": state}
		attack := strings.Join([]string{
			"cat " + shq(secret+"/key"),
			"cat /proc/self/root" + shq(secret+"/key"),
			"ln " + shq(secret+"/key") + " " + shq(extra+"/hl") + " && cat " + shq(extra+"/hl"),
			"cp -r " + shq(secret) + " " + shq(extra+"/copy") + "; cat " + shq(extra+"/copy/key"),
			"grep -r TOPSECRET " + shq(extra),
			"mv " + shq(secret) + " " + shq(extra+"/moved") + " && cat " + shq(extra+"/moved/key"),
			"rm -rf " + shq(secret),
			"echo planted > " + shq(secret+"/planted"),
			"touch " + shq(extra+"/allowed") + " && echo wrote-extra",
		}, "; ")
		res, toolErr := w.call(t, w.WS, attack, meta)
		if toolErr != "" {
			t.Fatalf("%s: tool error: %s", u.name, toolErr)
		}
		if strings.Contains(res.Output, "TOPSECRET") {
			t.Errorf("ATTACK SUCCEEDED as %s: the denied file was read:\n%s", u.name, res.Output)
		}
		if !strings.Contains(res.Output, "wrote-extra") {
			t.Errorf("%s: the writable root itself was not writable (the profile was not applied?):\n%s\nnote: %s", u.name, res.Output, res.Note)
		}
		if data, err := os.ReadFile(filepath.Join(secret, "key")); err != nil || string(data) != "TOPSECRET\n" {
			t.Errorf("ATTACK SUCCEEDED as %s: the denied file is gone or changed: %q, %v", u.name, data, err)
		}
		if _, err := os.Stat(filepath.Join(secret, "planted")); err == nil {
			t.Errorf("ATTACK SUCCEEDED as %s: a file was written into the denied directory", u.name)
		}
	})
}
