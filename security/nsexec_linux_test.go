package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/execgate/execgate/internal/testbin"
)

// The sandbox launcher (execgate-nsexec) runs outside every sandbox and
// stays, as the parent of the call's pid 1, for the whole call; pid 1, the
// call's supervisor, is a clone of it, inside the namespaces. A call must
// not be able to see the launcher, signal it or anything else outside its
// pid namespace, nor leave the server unable to run the next call.

// TestCallCannotReachTheNamespaceLauncher: the call looks for the launcher
// in /proc (its own pid 1 aside), tries its parent pid from inside, and
// kills everything it may signal (kill -1); the launcher and the server
// must be out of reach, and the next call must run as usual.
func TestCallCannotReachTheNamespaceLauncher(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{})
		if _, err := os.Stat(filepath.Join(filepath.Dir(testbin.Must(t, testbin.Execgate)), "execgate-nsexec")); err != nil {
			t.Skipf("no namespace launcher built (no C compiler?): %v", err)
		}
		res := w.shell(t, `for f in /proc/[0-9]*/cmdline; do [ "$f" = /proc/1/cmdline ] || { tr '\0' ' ' < "$f"; echo; }; done 2>/dev/null | grep -c '[e]xecgate-nsexec'
grep PPid /proc/1/status
kill -KILL -1 2>/dev/null
echo survived`)
		if !strings.HasPrefix(res.Output, "0\n") {
			t.Errorf("ATTACK SUCCEEDED as %s: the call sees the namespace launcher in its /proc: %q", u.name, res.Output)
		}
		if !strings.Contains(res.Output, "PPid:\t0\n") {
			t.Errorf("ATTACK SUCCEEDED as %s: the call's pid 1 names a parent it can reach: %q", u.name, res.Output)
		}
		if strings.Contains(w.Stderr.String(), "namespace launcher") {
			t.Errorf("the server did not use the namespace launcher:\n%s", w.Stderr.String())
		}
		if next := w.shell(t, "echo next"); next.ExitCode != 0 || next.Output != "next\n" {
			t.Errorf("ATTACK SUCCEEDED as %s: after kill -1 the next call fails: %+v", u.name, next)
		}
	})
}
