package security

import (
	"encoding/json"
	"testing"

	"github.com/execgate/execgate/internal/testbin"
)

// forgePkg speaks the escalate protocol without the wrapper, as a hostile
// program inside the sandbox would (see internal/forge).
const forgePkg = "github.com/execgate/execgate/security/internal/forge"

// forge returns a shell command running the forge tool with args (each
// quoted).
func forge(t *testing.T, args ...string) string {
	t.Helper()
	cmd := shq(testbin.Must(t, forgePkg))
	for _, a := range args {
		cmd += " " + shq(a)
	}
	return cmd
}

// forgedRequest is an EscalateRequest as JSON, with an empty environment.
func forgedRequest(t *testing.T, file string, argv []string, workdir string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"file": file, "argv": argv, "workdir": workdir, "env": map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
