package policy

import (
	"bytes"
	"strings"
	"testing"
)

// TestCheckMain covers `execgate check` as Codex's `codex execpolicy check`
// behaves: flags, trailing command, exact output (compact and pretty), exit
// codes.
func TestCheckMain(t *testing.T) {
	pol := rulesFile("match", "policy.rules")
	second := rulesFile("match", "second.rules")
	bad := rulesFile("errors", "decision.rules")
	tests := []struct {
		name       string
		args       []string
		wantOut    string
		wantErr    string // substring of stderr
		wantStatus int
	}{
		{"match", []string{"--rules", pol, "rm", "-rf", "x"},
			`{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["rm","-rf"],"decision":"forbidden"}},{"prefixRuleMatch":{"matchedPrefix":["rm"],"decision":"prompt"}}],"decision":"forbidden"}` + "\n", "", 0},
		{"no match omits decision", []string{"-r", pol, "ls"}, `{"matchedRules":[]}` + "\n", "", 0},
		{"files in order", []string{"-r", pol, "--rules=" + second, "git", "status"},
			`{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["git","status"],"decision":"allow"}},{"prefixRuleMatch":{"matchedPrefix":["git"],"decision":"prompt","justification":"git needs review"}},{"prefixRuleMatch":{"matchedPrefix":["git","status"],"decision":"allow"}},{"prefixRuleMatch":{"matchedPrefix":["git","status"],"decision":"forbidden","justification":"second file"}}],"decision":"forbidden"}` + "\n", "", 0},
		{"flags after the command belong to it", []string{"-r", pol, "git", "--pretty"},
			`{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["git"],"decision":"prompt","justification":"git needs review"}}],"decision":"prompt"}` + "\n", "", 0},
		{"double dash", []string{"-r", pol, "--", "--pretty"}, `{"matchedRules":[]}` + "\n", "", 0},
		{"hyphen command", []string{"-r", pol, "-la"}, `{"matchedRules":[]}` + "\n", "", 0},
		{"pretty", []string{"--pretty", "-r", pol, "rm", "x"}, `{
  "matchedRules": [
    {
      "prefixRuleMatch": {
        "matchedPrefix": [
          "rm"
        ],
        "decision": "prompt"
      }
    }
  ],
  "decision": "prompt"
}
`, "", 0},
		{"pretty empty", []string{"--pretty", "-r", pol, "ls"}, "{\n  \"matchedRules\": []\n}\n", "", 0},
		{"no html escaping", []string{"-r", pol, "/usr/bin/git", "push"},
			`{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["/usr/bin/git","push"],"decision":"forbidden","justification":"no pushing <main> & \"dev\""}}],"decision":"forbidden"}` + "\n", "", 0},
		{"resolve host executables", []string{"-r", pol, "--resolve-host-executables", "/usr/bin/npm", "run", "build"},
			`{"matchedRules":[{"prefixRuleMatch":{"matchedPrefix":["npm","run","build"],"decision":"allow","resolvedProgram":"/usr/bin/npm"}}],"decision":"allow"}` + "\n", "", 0},
		{"load error", []string{"-r", pol, "-r", bad, "ls"}, "",
			"Error: failed to parse policy at " + bad + "\n\nCaused by:\n    " + bad + ":1:12: invalid decision: Allow\n", 1},
		{"missing file", []string{"-r", "/nonexistent.rules", "ls"}, "",
			"Error: failed to read policy at /nonexistent.rules\n\nCaused by:\n    No such file or directory (os error 2)\n", 1},
		{"no rules", []string{"ls"}, "", "--rules <PATH>", 2},
		{"no command", []string{"-r", pol}, "", "<COMMAND>", 2},
		{"rules without value", []string{"-r"}, "", "a value is required", 2},
		{"help", []string{"--help"}, "Usage: execgate check", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			status := CheckMain(tt.args, &out, &errOut)
			if status != tt.wantStatus {
				t.Errorf("status %d, want %d (stderr %q)", status, tt.wantStatus, errOut.String())
			}
			if tt.name == "help" {
				if !strings.HasPrefix(out.String(), tt.wantOut) {
					t.Errorf("help output %q", out.String())
				}
				return
			}
			if out.String() != tt.wantOut {
				t.Errorf("stdout\n got: %q\nwant: %q", out.String(), tt.wantOut)
			}
			if !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", errOut.String(), tt.wantErr)
			}
		})
	}
}
