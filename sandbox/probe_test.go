package sandbox

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestOtherOSFailsClosed: on an OS without the helper (Probe's answer
// there), the sandboxed modes are refused with the fail-closed error that
// names the OS and the opt-out, before anything starts; danger-full-access
// is not refused.
func TestOtherOSFailsClosed(t *testing.T) {
	caps := Capabilities{OS: "darwin", SeccompError: "Linux only", NamespacesError: "Linux only"}
	l := &Launcher{caps: caps}
	for _, mode := range []Mode{ReadOnly, WorkspaceWrite} {
		spec := Spec{Policy: Policy{Mode: mode}, Workspace: t.TempDir()}
		cmd, err := l.Start(context.Background(), spec, []string{"/bin/sh", "-c", "true"}, Proc{})
		var ue *UnenforceableError
		if cmd != nil || !errors.As(err, &ue) {
			t.Fatalf("%s: cmd %v, err = %v, want *UnenforceableError", mode, cmd, err)
		}
		for _, want := range []string{string(mode), "Linux only, this is darwin", `"danger-full-access"`, "nothing was run"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not mention %s", mode, err, want)
			}
		}
	}
	if err := caps.Check(DangerFullAccess); err != nil {
		t.Errorf("danger-full-access refused: %v", err)
	}
}
