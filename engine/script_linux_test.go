package engine

import (
	"context"
	"strings"
	"testing"
)

// A script beyond what one argument may hold (128 KiB) runs, as `bash -c`
// would run it: $0 is Bash, the script's commands do not read its text on
// stdin, exit ends it, and its programs are still intercepted.
func TestEngineLongScript(t *testing.T) {
	te := newTestEngine(t, "", nil)
	ws := t.TempDir()
	for _, size := range []int{argvScriptMax, 200 << 10, MaxCommandBytes - 100} {
		script := "z=$0\n: " + strings.Repeat("y", size-len("z=$0\n: \nprintf '%s\\n' \"$z\"; cat; echo end; exit 3\necho after")) +
			"\nprintf '%s\\n' \"$z\"; cat; echo end; exit 3\necho after"
		if len(script) != size {
			t.Fatalf("script of %d bytes, want %d", len(script), size)
		}
		r := te.shell(t, script, ws, ws)
		if r.ExitCode != 3 || r.Output != te.bash.Path+"\nend\n" {
			t.Errorf("%d bytes: exit %d, output %q", size, r.ExitCode, r.Output)
		}
		if len(r.Decisions) != 1 || r.Decisions[0].Argv[0] != "cat" {
			t.Errorf("%d bytes: decisions %+v, want cat's", size, r.Decisions)
		}
	}
	// The first read-only call finds no spare helper of its kind: the
	// script goes through a helper started for it.
	script := "echo start\n: " + strings.Repeat("y", 200<<10) + "\necho end"
	res, err := Execute(context.Background(), te, te.opts, nil, Request{ID: "ro", Command: script, Workdir: ws, Mode: ModeReadOnly, Workspace: []string{ws}})
	if err != nil || res.ExitCode != 0 || res.Output != "start\nend\n" {
		t.Errorf("read-only: %v, %+v", err, res)
	}
}
