package server

import (
	"os"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

func TestDoctor(t *testing.T) {
	t.Setenv("EXECGATE_HOME", t.TempDir())
	var out, errOut strings.Builder
	code := doctor([]string{"--bash", "/bin/bash", "--sandbox", "read-only"}, &out, &errOut)
	if code != 1 {
		t.Errorf("exit %d, want 1 (stock bash refused)", code)
	}
	for _, want := range []string{
		"sandbox mode:     read-only (network off)",
		"execution engine: FAILED: /bin/bash: Bash does not honour EXEC_WRAPPER",
		"scripts/build-bash.sh",
		`"args": [`, `"--sandbox"`, "[mcp_servers.execgate]", `default_tools_approval_mode = "approve"`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out.String())
		}
	}
	if code := doctor([]string{"--sandbox", "bad"}, &out, &errOut); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
}

// TestCodexSnippet: the Codex configuration doctor prints is valid TOML
// with what Codex 0.171 needs: the approval mode and the environment.
func TestCodexSnippet(t *testing.T) {
	var b strings.Builder
	codexSnippet(&b, "/opt/execgate", []string{"server", "--sandbox", "read-only"}, map[string]string{"CODEX_HOME": "/home/u/.codex", "EXECGATE_BASH": "/opt/bash"})
	_, cfg, _ := strings.Cut(b.String(), ":\n")
	var got struct {
		MCP map[string]struct {
			Command  string            `toml:"command"`
			Args     []string          `toml:"args"`
			Env      map[string]string `toml:"env"`
			Approval string            `toml:"default_tools_approval_mode"`
		} `toml:"mcp_servers"`
		Features map[string]bool `toml:"features"`
	}
	if err := toml.Unmarshal([]byte(cfg), &got); err != nil {
		t.Fatalf("not TOML: %v\n%s", err, cfg)
	}
	e := got.MCP["execgate"]
	if e.Command != "/opt/execgate" || len(e.Args) != 3 || e.Env["CODEX_HOME"] != "/home/u/.codex" || e.Approval != "approve" || got.Features["shell_tool"] {
		t.Errorf("parsed %+v from\n%s", got, cfg)
	}
}

// doctor checks the audit log as the server would open it, without
// creating it.
func TestDoctorAuditLog(t *testing.T) {
	t.Setenv("EXECGATE_HOME", t.TempDir())
	missing := t.TempDir() + "/audit.jsonl"
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--audit-log", "/dev/full"}, "audit log:        REFUSED: audit log /dev/full: not a regular file (a character device)"},
		{[]string{"--audit-log", "/proc/version"}, "audit log:        REFUSED: audit log /proc/version: on a proc filesystem"},
		{[]string{"--audit-log", missing, "--audit-required"}, "audit log:        " + missing + " (not present yet; the server creates it (mode 0600); required: on)"},
	} {
		var out, errOut strings.Builder
		doctor(append([]string{"--bash", "/bin/bash"}, tt.args...), &out, &errOut)
		if !strings.Contains(out.String(), tt.want) {
			t.Errorf("doctor %v lacks %q:\n%s", tt.args, tt.want, out.String())
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("doctor created the audit log")
	}
}
