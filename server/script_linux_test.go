package server

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
	h := newHarness(t, te.opts, te, nil, ws)
	for _, size := range []int{argvScriptMax, 200 << 10, MaxCommandBytes - 100} {
		script := "z=$0\n: " + strings.Repeat("y", size-len("z=$0\n: \nprintf '%s\\n' \"$z\"; cat; echo end; exit 3\necho after")) +
			"\nprintf '%s\\n' \"$z\"; cat; echo end; exit 3\necho after"
		if len(script) != size {
			t.Fatalf("script of %d bytes, want %d", len(script), size)
		}
		r := structured(t, h.call(t, map[string]any{"command": script, "workdir": ws, "login": false}, nil))
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

// A script Bash cannot take is a tool error saying why, not the text of a
// failed fork/exec.
func TestEngineRefusesUnrunnableScripts(t *testing.T) {
	te := newTestEngine(t, "", nil)
	ws := t.TempDir()
	h := newHarness(t, te.opts, te, nil, ws)
	for _, tt := range []struct {
		name, script string
		want         []string
	}{
		{"NUL byte", "echo a\x00b", []string{"command", "NUL byte", "offset 6"}},
		{"over the limit", strings.Repeat("#", MaxCommandBytes+1), []string{"command", "1048577 bytes", "limit of 1048576"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := h.call(t, map[string]any{"command": tt.script, "workdir": ws, "login": false}, nil)
			if !res.IsError {
				t.Fatalf("not a tool error: %s", text(res))
			}
			for _, w := range tt.want {
				if !strings.Contains(text(res), w) {
					t.Errorf("%q does not say %q", text(res), w)
				}
			}
		})
	}
}
