package server

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/testhelp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// configureScript is shaped like an autoconf configure script: every test
// compiles a conftest file and cleans up with `rm -f conftest*` (here run
// by the patched Bash, as CONFIG_SHELL=bash does, so each rm is an exec the
// server decides), then, as config.status does, it replaces the Makefile. One rm -f aims outside
// the writable roots: it must stay confined.
func configureScript(out string, tests int) string {
	return fmt.Sprintf(`#!/bin/sh
i=0
while [ $i -lt %d ]; do
  echo 'int main(void) { return 0; }' > conftest.c
  : > conftest.o; : > conftest$i.err
  rm -f conftest.c conftest.o conftest$i.err
  rm -rf conftest.dir
  i=$((i+1))
done
rm -f %s 2>/dev/null || echo "configure: could not remove the victim (confined)"
echo 'all:' > conftest.mk
rm -f Makefile && mv conftest.mk Makefile || { echo "configure: error: could not create Makefile"; exit 1; }
echo "config.status: creating Makefile"
`, tests, filepath.Join(out, "victim"))
}

// A ./configure with hundreds of `rm -f conftest*` runs to the end through
// the real server and a client that cannot prompt: every dangerous command
// runs confined, without a question, and each decision says so.
func TestBinaryConfigureRunsDangerousConfined(t *testing.T) {
	const tests = 150
	out := testhelp.PrivateDir(t)
	victim := filepath.Join(out, "victim")
	testhelp.WriteFile(t, victim, "")
	ws := t.TempDir()
	testhelp.WriteFile(t, filepath.Join(ws, "configure"), configureScript(out, tests))
	cmd := exec.Command(execgateBinary(t), "server")
	cmd.Env = serverEnv(t, testhelp.PrivateDir(t))
	cmd.Dir = ws
	cs := connect(t, cmd, nil) // no elicitation: a question would be a denial
	r := callShell(t, cs, map[string]any{"command": `"$BASH" ./configure`, "workdir": ws, "login": false, "timeout_ms": 120000})
	if r.ExitCode != 0 || !strings.Contains(r.Output, "config.status: creating Makefile") || !testhelp.Exists(filepath.Join(ws, "Makefile")) {
		t.Fatalf("configure failed: exit %d, output %q", r.ExitCode, r.Output)
	}
	if !testhelp.Exists(victim) || !strings.Contains(r.Output, "could not remove the victim (confined)") {
		t.Errorf("the rm -f outside the writable roots was not confined (victim exists %v): %q", testhelp.Exists(victim), r.Output)
	}
	dangerous := 0
	for _, d := range r.Decisions {
		if d.Decision != escalate.Run {
			t.Errorf("decision %+v, want run", d)
			continue
		}
		if filepath.Base(d.Program) == "rm" {
			dangerous++
			if !strings.Contains(d.Reason, "judged dangerous") || !strings.Contains(d.Reason, "runs confined") {
				t.Errorf("rm decision %+v does not say it was judged dangerous and ran confined", d)
			}
		}
	}
	if dangerous == 0 {
		t.Errorf("no rm decision among %d", len(r.Decisions))
	}
}

// Where a dangerous command would run unconfined (danger-full-access), the
// user is asked; "always allow" writes a rule for the command's prefix, not
// its files, and the next `rm -f` of another file runs without a question.
func TestBinaryDangerousUnconfinedAsks(t *testing.T) {
	out := testhelp.PrivateDir(t)
	home := testhelp.PrivateDir(t)
	for _, f := range []string{"first", "second"} {
		testhelp.WriteFile(t, filepath.Join(out, f), "")
	}
	ec := &elicitClient{answer: func(string) *mcp.ElicitResult {
		return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"decision": "always_allow"}}
	}}
	cmd := exec.Command(execgateBinary(t), "server", "--sandbox", "danger-full-access")
	cmd.Env = serverEnv(t, home)
	cmd.Dir = t.TempDir()
	cs := connect(t, cmd, &mcp.ClientOptions{ElicitationHandler: ec.handle})

	r := callShell(t, cs, map[string]any{"command": "rm -f " + filepath.Join(out, "first"), "workdir": cmd.Dir, "login": false})
	if r.ExitCode != 0 || testhelp.Exists(filepath.Join(out, "first")) || len(r.Decisions) != 1 || r.Decisions[0].Decision != escalate.Escalate {
		t.Fatalf("first rm -f: exit %d, decisions %+v, output %q", r.ExitCode, r.Decisions, r.Output)
	}
	rules, err := os.ReadFile(filepath.Join(home, "rules", "default.rules"))
	if want := `prefix_rule(pattern=["rm", "-f"], decision="allow")` + "\n"; err != nil || string(rules) != want {
		t.Errorf("default.rules = %q (%v), want %q", rules, err, want)
	}
	r = callShell(t, cs, map[string]any{"command": "rm -f " + filepath.Join(out, "second"), "workdir": cmd.Dir, "login": false})
	if r.ExitCode != 0 || testhelp.Exists(filepath.Join(out, "second")) || len(r.Decisions) != 1 ||
		r.Decisions[0].Decision != escalate.Escalate || !strings.Contains(r.Decisions[0].Rule, "default.rules") {
		t.Errorf("second rm -f: exit %d, decisions %+v, want escalated by the added rule", r.ExitCode, r.Decisions)
	}
	ec.mu.Lock()
	defer ec.mu.Unlock()
	if len(ec.messages) != 1 || !strings.Contains(ec.messages[0], "it runs unconfined") || !strings.Contains(ec.messages[0], "commands starting `rm -f`") {
		t.Errorf("prompts %q, want one about the first rm -f", ec.messages)
	}
}
