package sandbox

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestStartWantsAbsoluteProgram: the helper looks nothing up in PATH, so a
// program that is not an absolute path is refused before anything starts,
// with the argv named.
func TestStartWantsAbsoluteProgram(t *testing.T) {
	l := NewLauncher(nil)
	for _, argv := range [][]string{nil, {"bash", "-c", "true"}, {"./bash"}} {
		cmd, err := l.Start(context.Background(), Spec{Policy: Policy{Mode: DangerFullAccess}}, argv, Proc{})
		if err == nil || !strings.Contains(err.Error(), "want an absolute path") || (len(argv) > 0 && !strings.Contains(err.Error(), argv[0])) {
			t.Errorf("%q: %v (%v), want an error naming the program", argv, cmd, err)
		}
	}
}

// TestProgramEnv: what the helper passes to execve, as os.Setenv would
// have made it: entries without a name or '=' dropped, the last value of
// a name kept in its first place.
func TestProgramEnv(t *testing.T) {
	got := programEnv([]string{"A=1", "NOEQUALS", "=x", "B=two words", "A=3", "C=", "B=2=2"})
	if want := []string{"A=3", "B=2=2", "C="}; !slices.Equal(got, want) {
		t.Errorf("programEnv = %q, want %q", got, want)
	}
}
