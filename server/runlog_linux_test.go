package server

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/execgate/execgate/internal/testhelp"
)

// `execgate run` keeps the terminal for the script: a denial is logged,
// a program that simply ran is not, unless -v.
func TestBinaryRunLogsOnlyWhatMatters(t *testing.T) {
	home := testhelp.RulesHome(t, `prefix_rule(pattern=["rm"], decision="forbidden", justification="no rm here")`+"\n")
	for _, tt := range []struct {
		flags   []string
		wantRun bool
	}{{nil, false}, {[]string{"-v"}, true}} {
		args := append(append([]string{"run"}, tt.flags...), "--workdir", t.TempDir(), "--", "/bin/true; rm -f nothing; echo done")
		cmd := exec.Command(testhelp.Execgate(t), args...)
		cmd.Env = append(serverEnv(t, home), "HOME=/nonexistent") // no login profile noise
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stderr.String())
		}
		logged := stderr.String()
		if got := strings.Contains(logged, "program=/bin/true"); got != tt.wantRun {
			t.Errorf("%v: the run of /bin/true logged = %v, want %v:\n%s", tt.flags, got, tt.wantRun, logged)
		}
		if !strings.Contains(logged, "decision=deny") || !strings.Contains(logged, "no rm here") {
			t.Errorf("%v: the denial is not logged:\n%s", tt.flags, logged)
		}
		if strings.Count(logged, "\n") > 3 && !tt.wantRun {
			t.Errorf("%v: more than the denial on stderr:\n%s", tt.flags, logged)
		}
	}
}
