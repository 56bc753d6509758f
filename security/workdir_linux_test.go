package security

import (
	"fmt"
	"strings"
	"testing"
)

// The workdir of a request is the agent's to write: a forged one can name
// any string. An escalated command may start only in a directory the
// sandboxed shell could have changed into itself, reached without /proc,
// magic links or a symlink the sandbox can re-point.

// TestForgedWorkdir forges requests for an allowed `sh -c PAYLOAD` with
// workdirs the shell could not have had. Each must be refused; the control
// (/, where any shell can go) runs, which shows the forged requests work.
func TestForgedWorkdir(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: `prefix_rule(pattern=["sh", "-c"], decision="allow")` + "\n"})
		w.shell(t, "ln -s / rootlink")
		refused := map[string]string{
			"procselfroot": "/proc/self/root" + w.WS,
			"procinit":     "/proc/1/cwd",
			"procthread":   "/proc/thread-self/cwd",
			"wslink":       w.WS + "/rootlink",
		}
		if u.uid != 0 {
			refused["rootdir"] = "/root" // not searchable by this user
		}
		var script strings.Builder
		for name, dir := range refused {
			fmt.Fprintf(&script, "%s; echo %s=$?\n", forge(t, "request", forgedRequest(t, "/bin/sh", []string{"sh", "-c", w.payload(name)}, dir)), name)
		}
		fmt.Fprintf(&script, "%s; echo control=$?\n", forge(t, "request", forgedRequest(t, "/bin/sh", []string{"sh", "-c", w.payload("control")}, "/")))
		res := w.shell(t, script.String())
		for name, dir := range refused {
			w.assertConfined(t, name, res)
			if !strings.Contains(res.Output, name+"=124") {
				t.Errorf("workdir %s was not refused (want a Deny answer, forge exit 124): %q", dir, res.Output)
			}
		}
		if !w.escaped("control") {
			t.Fatalf("the control request (workdir /) did not run outside the sandbox: %q %+v", res.Output, res.Decisions)
		}
	})
}
