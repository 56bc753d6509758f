package security

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The rules and config decide what runs outside the sandbox: if the sandbox
// can write them, the agent approves itself. Each test puts a rules or
// config file where a sandboxed command can change it and checks that the
// server refuses it, naming the file and the writable root; where the
// server (wrongly) carries on, the test runs the attack, to show what the
// refusal prevents.

// allowShell is the rule the attacker writes: its payload then runs through
// `sh -c` outside the sandbox. rulesReload outlasts the server's rules
// change check (200 ms), so the rule is in force for the next exec.
const (
	allowShell  = `prefix_rule(pattern=["sh", "-c"], decision="allow")` + "\n"
	rulesReload = "sleep 0.5"
)

// selfApprove is the attack script: write allowShell into file, then use it.
func selfApprove(w *world, file, name string) string {
	return fmt.Sprintf("printf '%%s' %s >> %s; %s; sh -c %s", shq(allowShell), shq(file), rulesReload, shq(w.payload(name)))
}

// wantRefused checks that err (the server's failure to start, or a tool
// error) names each of names.
func wantRefused(t *testing.T, what string, err string, names ...string) {
	t.Helper()
	for _, n := range names {
		if !strings.Contains(err, n) {
			t.Errorf("%s does not name %s:\n%s", what, n, err)
		}
	}
}

// attempt starts w's server with s and runs the attack script (name is its
// payload's). The server must refuse: not start, or fail the call before
// anything runs (a workspace's roots are known per call), with a message
// naming each of names. A server that runs the call has let the attack
// through, and the test says what the payload did.
func attempt(t *testing.T, w *world, s setup, name, attack string, names ...string) {
	t.Helper()
	if err := w.serve(t, s); err != nil {
		wantRefused(t, "the startup error", err.Error(), names...)
		return
	}
	res, toolErr := w.call(t, w.WS, attack, nil)
	w.assertConfined(t, name, res)
	if toolErr == "" {
		t.Fatalf("the call ran: exit %d output %q", res.ExitCode, res.Output)
	}
	wantRefused(t, "the tool error", toolErr, names...)
}

// TestSelfApprovalCodexHomeInWorkspace: CODEX_HOME inside the workspace
// (a writable root): a sandboxed command writes an allow rule into its
// rules directory and uses it in the same call.
func TestSelfApprovalCodexHomeInWorkspace(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := newWorld(t, u, setup{})
		w.Home = filepath.Join(w.WS, "codex-home")
		mkdirOwned(t, u, w.Home)
		mkdirOwned(t, u, filepath.Join(w.Home, "rules"))
		attempt(t, w, setup{}, "codex-home", selfApprove(w, filepath.Join(w.Home, "rules", "agent.rules"), "codex-home"),
			filepath.Join(w.Home, "rules"), "writable root ")
	})
}

// TestSelfApprovalRulesFlagInWorkspace: `--rules FILE` with FILE in the
// workspace.
func TestSelfApprovalRulesFlagInWorkspace(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := newWorld(t, u, setup{})
		extra := filepath.Join(w.WS, "project.rules")
		writeOwned(t, u, extra, `prefix_rule(pattern=["git", "status"], decision="allow")`+"\n")
		attempt(t, w, setup{Args: []string{"--rules", extra}}, "rules-flag", selfApprove(w, extra, "rules-flag"),
			extra, "writable root ")
	})
}

// TestSelfApprovalRulesFlagThroughSymlink: `--rules WS/link/x.rules`,
// where link (in the workspace) points to a directory the sandbox cannot
// write: the sandboxed command re-points the link.
func TestSelfApprovalRulesFlagThroughSymlink(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := newWorld(t, u, setup{})
		safe := userDir(t, u, "/var/tmp", "rules")
		writeOwned(t, u, filepath.Join(safe, "x.rules"), `prefix_rule(pattern=["git", "status"], decision="allow")`+"\n")
		link := filepath.Join(w.WS, "link")
		if err := os.Symlink(safe, link); err != nil {
			t.Fatal(err)
		}
		chown(t, u, link)
		extra := filepath.Join(link, "x.rules")
		attack := fmt.Sprintf("mkdir evil && printf '%%s' %s > evil/x.rules && ln -sfn evil link; %s; sh -c %s",
			shq(allowShell), rulesReload, shq(w.payload("rules-link")))
		attempt(t, w, setup{Args: []string{"--rules", extra}}, "rules-link", attack, extra, "symlink "+link, "writable root ")
	})
}

// TestSelfApprovalConfigThroughSymlink: config.toml is a symlink to a file
// in the workspace. The agent rewrites it to make a directory of its
// choice writable; the next time the server starts, its sandbox can write
// there.
func TestSelfApprovalConfigThroughSymlink(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := newWorld(t, u, setup{})
		target := filepath.Join(w.WS, "config.toml")
		writeOwned(t, u, target, "[execgate]\ntimeout_ms = 10000\n")
		config := filepath.Join(w.Home, "config.toml")
		if err := os.Symlink(target, config); err != nil {
			t.Fatal(err)
		}
		chown(t, u, config)
		if err := w.serve(t, setup{}); err != nil {
			wantRefused(t, "the startup error", err.Error(), config, "writable root ")
			return
		}
		rewrite := fmt.Sprintf("printf '[sandbox_workspace_write]\\nwritable_roots = [%%s]\\n' %s > config.toml", shq(fmt.Sprintf("%q", w.Out)))
		if _, toolErr := w.call(t, w.WS, rewrite, nil); toolErr != "" {
			wantRefused(t, "the tool error", toolErr, config, "writable root ")
			return
		}
		w.stop()
		if err := w.serve(t, setup{}); err != nil {
			t.Fatal(err)
		}
		res := w.shell(t, w.payload("config")) // in the sandbox, whose roots the agent chose
		w.assertConfined(t, "config", res)
		t.Fatalf("the server started with config.toml, a symlink to %s in the writable root %s", target, w.WS)
	})
}

// TestSelfApprovalPerCallRoots: the server starts with CODEX_HOME outside
// its roots, but a call's sandbox state (from the MCP client) makes it
// writable. The call must be refused before anything runs.
func TestSelfApprovalPerCallRoots(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: `prefix_rule(pattern=["git", "status"], decision="allow")` + "\n"})
		meta := mcp.Meta{"codex/sandbox-state-meta": map[string]any{
			"sandboxPolicy": map[string]any{"type": "workspace-write", "writable_roots": []string{w.Home}},
			"sandboxCwd":    w.WS,
		}}
		res, toolErr := w.call(t, w.WS, selfApprove(w, filepath.Join(w.Home, "rules", "agent.rules"), "per-call"), meta)
		w.assertConfined(t, "per-call", res)
		if toolErr == "" {
			t.Fatalf("a call whose writable roots include CODEX_HOME %s ran: exit %d output %q", w.Home, res.ExitCode, res.Output)
		}
		wantRefused(t, "the tool error", toolErr, filepath.Join(w.Home, "rules"), "writable root "+w.Home)
		if _, err := os.Stat(filepath.Join(w.Home, "rules", "agent.rules")); err == nil {
			t.Error("the refused call ran: it wrote its rules file")
		}
		// The server is still usable for calls that cannot write its rules.
		if res := w.shell(t, "echo ok"); res.ExitCode != 0 || !strings.Contains(res.Output, "ok") {
			t.Errorf("a later ordinary call failed: exit %d output %q", res.ExitCode, res.Output)
		}
	})
}
