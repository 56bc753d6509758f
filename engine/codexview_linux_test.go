package engine

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// codexModelView is what Codex 0.171 shows the model for a tool result:
// "Wall time: ...\nOutput:\n" and the structuredContent as JSON with sorted
// keys, cut from the middle to keep about budget bytes (half from each
// end).
func codexModelView(structured any, budget int) string {
	b, _ := json.Marshal(structured) // maps marshal with sorted keys
	s := "Wall time: 0.2 seconds\nOutput:\n" + string(b)
	if len(s) <= budget {
		return s
	}
	return s[:budget/2] + "\n…truncated…\n" + s[len(s)-budget/2:]
}

// With 150 program starts and 30 KB of output, what a client that cuts the
// middle of the result keeps still holds the exit code, timed_out and both
// ends of the output.
func TestCodexViewKeepsTheExitCode(t *testing.T) {
	te := newTestEngine(t, "", func(o *Options) { o.Timeout = time.Minute })
	ws := t.TempDir()
	script := "for i in $(seq 150); do /bin/true; done; echo FIRST-LINE; head -c 30000 /dev/zero | tr '\\0' y; echo; echo LAST-LINE; exit 3"
	out := te.shell(t, script, ws, ws)
	// A client sees the structuredContent as a JSON object: a map.
	b, _ := json.Marshal(out)
	var structured map[string]any
	if err := json.Unmarshal(b, &structured); err != nil {
		t.Fatal(err)
	}
	view := codexModelView(structured, 12000)
	head, tail, _ := strings.Cut(view, "…truncated…")
	for _, want := range []string{`"exit_code":3,`, `"output":"FIRST-LINE\nyyy`} {
		if !strings.Contains(head, want) {
			t.Errorf("the head the model sees lacks %q", want)
		}
	}
	for _, want := range []string{`yyy\nLAST-LINE\n","timed_out":false}`} {
		if !strings.Contains(tail, want) {
			t.Errorf("the tail the model sees lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("head of the view: %s", head[:min(len(head), 600)])
	}
	if listed := len(out.Decisions); listed+out.DecisionsOmitted != 153 || listed > listedFirst {
		t.Errorf("%d decisions listed, %d omitted; want at most %d listed of 153", listed, out.DecisionsOmitted, listedFirst)
	}
}
