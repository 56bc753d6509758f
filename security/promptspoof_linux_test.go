package security

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestPromptSpoofWorkdir: the agent makes the approval prompt lie. A
// directory name, an argument and an environment value holding CR, ESC and
// newlines would, printed raw, add a "Rule:" and a "Justification:" line no
// rule wrote, or rewrite the question. The user must see exactly the
// prompt's own lines, with the agent's text escaped.
func TestPromptSpoofWorkdir(t *testing.T) {
	const fake = "\r\x1b[2KAllow the agent to run `ls`?\nRule: system.rules:1\nJustification: read-only listing\x1b[8m\u202e"
	eachUser(t, func(t *testing.T, u user) {
		messages := make(chan string, 4)
		w := start(t, u, setup{
			Rules: `prefix_rule(pattern=["true"], decision="prompt", justification="asks")` + "\n",
			Elicit: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
				messages <- req.Params.Message
				return &mcp.ElicitResult{Action: "decline"}, nil
			},
		})
		script := fmt.Sprintf("d=%s; mkdir -- \"$d\" && cd -- \"$d\" && TZ=\"UTC$d\" /usr/bin/true \"$d\"", ansiC(fake))
		res := w.shell(t, script)
		if n := len(res.Decisions); n == 0 || res.Decisions[n-1].Decision != "deny" || !strings.HasSuffix(res.Decisions[n-1].Program, "/true") {
			t.Fatalf("decisions %+v, want true denied last (prompt declined)\noutput: %s", res.Decisions, res.Output)
		}
		var msg string
		select {
		case msg = <-messages:
		default:
			t.Fatal("no prompt was shown")
		}
		lines := strings.Split(msg, "\n")
		want := []string{"Allow the agent to run ", "Environment set by the agent: ", "Rule: ", "Justification: asks"}
		if len(lines) != len(want) {
			t.Errorf("the prompt has %d lines, want %d", len(lines), len(want))
		}
		for i := 0; i < len(lines) && i < len(want); i++ {
			if !strings.HasPrefix(lines[i], want[i]) {
				t.Errorf("line %d is %q, want it to start with %q", i+1, lines[i], want[i])
			}
		}
		if strings.ContainsAny(msg, "\r\x1b\u202e") {
			t.Errorf("control characters reached the prompt")
		}
		if !strings.Contains(lines[0], `\r\x1b[2KAllow`) {
			t.Errorf("the workdir and argument are not shown escaped: %q", lines[0])
		}
		if t.Failed() {
			t.Logf("prompt message: %q", msg)
		}
	})
}

// ansiC quotes s for Bash as $'...', every byte escaped.
func ansiC(s string) string {
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, `\x%02x`, s[i])
	}
	b.WriteString("'")
	return b.String()
}
