// Package codexfixture reads the captures of what Codex 0.171 sends an MCP
// shell server (testdata/codex-0171, see its README.md) for tests, with the
// placeholders of the captures replaced by a test's own paths.
package codexfixture

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/execgate/execgate/internal/modroot"
)

// Paths replace the placeholders of the captures.
type Paths struct {
	Work  string // <work>, the workspace
	Extra string // <extra>, an extra directory
	Home  string // <home>, $HOME
}

func (p Paths) replace(s string) string {
	return strings.NewReplacer("<work>", p.Work, "<extra>", p.Extra, "<home>", p.Home).Replace(s)
}

// State returns the `codex/sandbox-state` object Codex sent in case name
// ("ww" for sandbox-ww.json), placeholders replaced, as JSON.
func State(t testing.TB, name string, p Paths) json.RawMessage {
	t.Helper()
	var capture map[string]json.RawMessage
	if err := json.Unmarshal(read(t, "sandbox-"+name+".json", p), &capture); err != nil {
		t.Fatalf("codexfixture %s: %v", name, err)
	}
	st, ok := capture["codex/sandbox-state"]
	if !ok {
		t.Fatalf("codexfixture %s: no codex/sandbox-state", name)
	}
	return st
}

// Profile returns the permissionProfile of case name, as JSON.
func Profile(t testing.TB, name string, p Paths) json.RawMessage {
	t.Helper()
	var st struct {
		Profile json.RawMessage `json:"permissionProfile"`
	}
	if err := json.Unmarshal(State(t, name, p), &st); err != nil || st.Profile == nil {
		t.Fatalf("codexfixture %s: no permissionProfile (%v)", name, err)
	}
	return st.Profile
}

// Cases lists the sandbox cases captured ("ww", "dfa", ...).
func Cases(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir(t), "sandbox-*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("codexfixture: no captures (%v)", err)
	}
	var out []string
	for _, f := range files {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "sandbox-"), ".json"))
	}
	return out
}

// File returns capture file name (e.g. "elicitation.json") as is.
func File(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir(t), name))
	if err != nil {
		t.Fatalf("codexfixture: %v", err)
	}
	return data
}

func read(t testing.TB, name string, p Paths) []byte {
	t.Helper()
	return []byte(p.replace(string(File(t, name))))
}

// dir is testdata/codex-0171 of the module the test started in.
func dir(t testing.TB) string {
	t.Helper()
	d, err := modroot.Dir()
	if err != nil {
		t.Fatalf("codexfixture: %v", err)
	}
	return filepath.Join(d, "testdata", "codex-0171")
}
