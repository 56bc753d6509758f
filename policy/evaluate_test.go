package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// trustFixture builds a fake filesystem: T/usr/bin/git (system, outside
// the writable root), T/ws (writable root) with a planted git, a symlink
// to the system git, and a system path that links into the workspace.
func trustFixture(t *testing.T) string {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "usr/bin/git"), "#!/bin/sh\n")
	writeFile(t, filepath.Join(root, "ws/git"), "#!/bin/sh\n")
	writeFile(t, filepath.Join(root, "ws/rm"), "#!/bin/sh\n")
	for link, target := range map[string]string{
		"ws/bin/git":        "../../usr/bin/git",
		"usr/local/bin/git": "../../../ws/git",
		"wslink":            "ws",
	} {
		p := filepath.Join(root, link)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestEvaluateTrust(t *testing.T) {
	T := trustFixture(t)
	ws := filepath.Join(T, "ws")
	exact := filepath.Join(t.TempDir(), "exact.rules")
	writeFile(t, exact, `prefix_rule(pattern=["`+filepath.Join(ws, "git")+`", "log"], decision="allow")`)
	plain := mustLoad(t, rulesFile("trust", "git.rules"), exact)
	hosted := mustLoad(t, rulesFile("trust", "git.rules"), rulesFile("trust", "host.rules"))

	tests := []struct {
		name     string
		policy   *Policy
		exec     Exec
		decision Decision
		source   Source
		applied  bool
		reason   string // substring of Basename.Reason
		resolved string
	}{
		{"system git is trusted", plain, Exec{Program: T + "/usr/bin/git", Args: []string{"status"}, WritableRoots: []string{ws}},
			Allow, FromRule, true, "outside every writable root", T + "/usr/bin/git"},
		{"planted git is not", plain, Exec{Program: ws + "/git", Args: []string{"status"}, WritableRoots: []string{ws}},
			None, FromHeuristics, false, "inside writable root " + ws, ws + "/git"},
		{"symlink in workspace to system git: target decides", plain, Exec{Program: ws + "/bin/git", Args: []string{"status"}, WritableRoots: []string{ws}},
			Allow, FromRule, true, "resolves to " + T + "/usr/bin/git", T + "/usr/bin/git"},
		{"system path linking into workspace: target decides", plain, Exec{Program: T + "/usr/local/bin/git", Args: []string{"status"}, WritableRoots: []string{ws}},
			None, FromHeuristics, false, "inside writable root", ws + "/git"},
		{"writable root given through a symlink", plain, Exec{Program: ws + "/git", Args: []string{"status"}, WritableRoots: []string{T + "/wslink"}},
			None, FromHeuristics, false, "inside writable root " + T + "/wslink", ws + "/git"},
		{"forbidden basename rules apply to untrusted programs", plain, Exec{Program: ws + "/git", Args: []string{"push"}, WritableRoots: []string{ws}},
			Forbidden, FromRule, false, "inside writable root", ws + "/git"},
		{"rule naming the absolute path applies", plain, Exec{Program: ws + "/git", Args: []string{"log"}, WritableRoots: []string{ws}},
			Allow, FromRule, false, "inside writable root", ws + "/git"},
		{"preserve_program_paths", plain, Exec{Program: T + "/usr/bin/git", Args: []string{"status"}, PreserveProgramPaths: true},
			None, FromHeuristics, false, "preserve_program_paths", T + "/usr/bin/git"},
		{"root / covers everything", plain, Exec{Program: T + "/usr/bin/git", Args: []string{"status"}, WritableRoots: []string{"/"}},
			None, FromHeuristics, false, "inside writable root /", T + "/usr/bin/git"},
		{"missing executable", plain, Exec{Program: T + "/nope/git", Args: []string{"status"}},
			None, FromHeuristics, false, "cannot resolve", T + "/nope/git"},
		{"relative program", plain, Exec{Program: "git", Args: []string{"status"}},
			None, FromHeuristics, false, "not an absolute path", "git"},
		{"relative program, forbidden still applies", plain, Exec{Program: "git", Args: []string{"push"}},
			Forbidden, FromRule, false, "not an absolute path", "git"},
		{"host_executable excludes unlisted paths", hosted, Exec{Program: T + "/usr/bin/git", Args: []string{"status"}},
			None, FromHeuristics, false, `not listed by host_executable(name="git")`, T + "/usr/bin/git"},
		{"host_executable: listed path", hosted, Exec{Program: "/opt/git/bin/git", Args: []string{"status"}, WritableRoots: []string{"/opt"}},
			Allow, FromRule, true, "listed by host_executable", "/opt/git/bin/git"},
		{"dangerous heuristic on untrusted rm", plain, Exec{Program: ws + "/rm", Args: []string{"-rf", "x"}, WritableRoots: []string{ws}},
			Prompt, FromHeuristics, false, "inside writable root", ws + "/rm"},
		{"no rules for the basename", plain, Exec{Program: "/bin/ls", Args: []string{"-la"}},
			None, FromHeuristics, false, "no rules for ls", "/bin/ls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.policy.Evaluate(tt.exec)
			if v.Decision != tt.decision || v.Source != tt.source || v.Basename.Applied != tt.applied {
				t.Errorf("got decision %v source %v applied %v, want %v %v %v (reason %q)",
					v.Decision, v.Source, v.Basename.Applied, tt.decision, tt.source, tt.applied, v.Basename.Reason)
			}
			if !strings.Contains(v.Basename.Reason, tt.reason) {
				t.Errorf("reason %q does not contain %q", v.Basename.Reason, tt.reason)
			}
			if v.ResolvedProgram != tt.resolved {
				t.Errorf("ResolvedProgram = %q, want %q", v.ResolvedProgram, tt.resolved)
			}
			if (v.Source == FromRule) != (v.Rule != nil) {
				t.Errorf("Rule = %v with source %v", v.Rule, v.Source)
			}
		})
	}
}

// TestEvaluateRealPaths runs the literal scenario where the host has
// /usr/bin/git: allowed with /ws as the writable root.
func TestEvaluateRealPaths(t *testing.T) {
	if _, err := os.Stat("/usr/bin/git"); err != nil {
		t.Skip("no /usr/bin/git on this host")
	}
	p := mustLoad(t, rulesFile("trust", "git.rules"))
	if v := p.Evaluate(Exec{Program: "/usr/bin/git", Args: []string{"status"}, WritableRoots: []string{"/ws"}}); v.Decision != Allow {
		t.Errorf("/usr/bin/git status: %+v", v)
	}
	if v := p.Evaluate(Exec{Program: "/ws/git", Args: []string{"status"}, WritableRoots: []string{"/ws"}}); v.Decision == Allow {
		t.Errorf("/ws/git status allowed: %+v", v)
	}
	hosted := mustLoad(t, rulesFile("trust", "git.rules"), rulesFile("trust", "host.rules"))
	if v := hosted.Evaluate(Exec{Program: "/usr/bin/git", Args: []string{"status"}}); v.Decision == Allow {
		t.Errorf("/usr/bin/git matched the basename rule despite host_executable: %+v", v)
	}
}

func TestVerdictRule(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "r.rules")
	writeFile(t, f, `prefix_rule(pattern=["/bin/echo"], decision="prompt", justification="short")
prefix_rule(pattern=["/bin/echo", "a"], decision="prompt", justification="long")
prefix_rule(pattern=["/bin/echo", "a"], decision="prompt", justification="long, later")
prefix_rule(pattern=["/bin/echo"], decision="allow", justification="weaker")`)
	v := mustLoad(t, f).Evaluate(Exec{Program: "/bin/echo", Args: []string{"a", "b"}, PreserveProgramPaths: true})
	if v.Decision != Prompt || v.Justification() != "long, later" || len(v.Matches) != 4 {
		t.Errorf("got %v %q with %d matches", v.Decision, v.Justification(), len(v.Matches))
	}
}

// TestVerdictReason: the reason strings Codex 0.97.0 gives for a forbidden or
// prompting verdict, byte for byte.
func TestVerdictReason(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "r.rules")
	writeFile(t, f, `prefix_rule(pattern=["/bin/echo", "x"], decision="forbidden")
prefix_rule(pattern=["/bin/echo", "f"], decision="forbidden", justification="use printf")
prefix_rule(pattern=["/bin/echo", "p"], decision="prompt", justification="because reasons")
prefix_rule(pattern=["/bin/echo", "q"], decision="prompt")
prefix_rule(pattern=["/bin/echo", "ok"])`)
	p := mustLoad(t, f)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"x"}, "`/bin/echo x` rejected: policy forbids commands starting with `/bin/echo x`"},
		{[]string{"f", "a b"}, "`/bin/echo f 'a b'` rejected: use printf"},
		{[]string{"p", "1"}, "`/bin/echo p 1` requires approval: because reasons"},
		{[]string{"q"}, "`/bin/echo q` requires approval by policy"},
		{[]string{"ok"}, ""},
	}
	for _, tt := range tests {
		v := p.Evaluate(Exec{Program: "/bin/echo", Args: tt.args, PreserveProgramPaths: true})
		if got := v.Reason(append([]string{"/bin/echo"}, tt.args...)); got != tt.want {
			t.Errorf("Reason(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
	forbidden := Verdict{Decision: Forbidden}
	if got := forbidden.Reason([]string{"git", "reset"}); got != "`git reset` rejected: blocked by policy" {
		t.Errorf("heuristic forbidden: %q", got)
	}
	heuristic := p.Evaluate(Exec{Program: "/bin/rm", Args: []string{"-rf", "x"}})
	if heuristic.Decision != Prompt || heuristic.Reason([]string{"rm", "-rf", "x"}) != "" {
		t.Errorf("heuristic prompt: %+v", heuristic)
	}
}
