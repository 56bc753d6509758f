package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNestedBashDecides: a Bash the agent's script starts, by name, by
// either absolute path or through a `#!/bin/bash` line, is the patched Bash
// with the call's interception, so its program starts obey the same rules
// as the script's own: an allowed one escalates, a forbidden one is denied
// and recorded. `sh` stays the system's shell.
func TestNestedBashDecides(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: `prefix_rule(pattern=["sh", "-c"], decision="allow")` + "\n" +
			`prefix_rule(pattern=["uname"], decision="forbidden", justification="no uname here")` + "\n"})
		script := filepath.Join(w.WS, "nested.sh")
		writeOwned(t, u, script, "#!/bin/bash\nsh -c "+shq(w.payload("shebang"))+"\n")
		if err := os.Chmod(script, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ name, command string }{
			{"bash", "bash -c " + shq("sh -c "+shq(w.payload("bash")))},
			{"binbash", "/bin/bash -c " + shq("sh -c "+shq(w.payload("binbash")))},
			{"usrbinbash", "/usr/bin/bash -c " + shq("sh -c "+shq(w.payload("usrbinbash")))},
			{"shebang", "./nested.sh"},
		} {
			res := w.shell(t, c.command)
			if !w.escaped(c.name) {
				t.Errorf("%s: the nested Bash did not escalate the allowed `sh -c`: exit %d output %q decisions %+v",
					c.name, res.ExitCode, res.Output, res.Decisions)
				continue
			}
			if b, _ := os.ReadFile(w.marker(c.name)); !strings.Contains(string(b), "Seccomp:\t0") {
				t.Errorf("%s: the escalated program ran confined: %q", c.name, b)
			}
			if !hasDecision(res, "sh", "escalate") {
				t.Errorf("%s: no escalate decision for sh recorded: %+v", c.name, res.Decisions)
			}
		}

		res := w.shell(t, "bash -c 'uname; echo after=$?'")
		if !strings.Contains(res.Output, "Execution denied: no uname here") || !strings.Contains(res.Output, "after=1") {
			t.Errorf("a forbidden program started by a nested Bash was not denied: %q", res.Output)
		}
		if !hasDecision(res, "uname", "deny") {
			t.Errorf("the nested denial is not in the call's decisions: %+v", res.Decisions)
		}

		// sh is the system's shell, not the patched Bash.
		res = w.shell(t, `sh -c 'readlink /proc/$$/exe'; bash -c 'echo "$BASH_VERSION"'`)
		if strings.Contains(res.Output, "bash\n") {
			t.Errorf("sh was replaced by Bash: %q", res.Output)
		}
		// The patched Bash is mounted read-only wherever it appears.
		res = w.shell(t, "for f in /bin/bash /usr/bin/bash; do : >> $f && echo wrote $f; done; true")
		if strings.Contains(res.Output, "wrote") {
			t.Errorf("the sandbox could write a nested Bash: %q", res.Output)
		}
	})
}

// hasDecision reports whether res recorded decision for a program whose
// file is named base.
func hasDecision(res shellResult, base, decision string) bool {
	for _, d := range res.Decisions {
		if filepath.Base(d.Program) == base && d.Decision == decision {
			return true
		}
	}
	return false
}
