package server

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/execgate/execgate/engine"
	"github.com/execgate/execgate/internal/testhelp"
)

func TestRunScript(t *testing.T) {
	tests := []struct {
		name     string
		script   string
		timeout  time.Duration
		tty      string // "pty": a terminal answering "y"; "": none
		wantCode int
		wantOut  string // streamed to the tee
		wantErr  string // on stderr
	}{
		{name: "exit status passes through", script: "echo hello; exit 7", wantCode: 7, wantOut: "hello\n"},
		{name: "timeout is 124", script: "echo a; sleep 30", timeout: 1500 * time.Millisecond, wantCode: 124, wantOut: "a\n", wantErr: "timed out"},
		{name: "prompt answered on the terminal", script: "ask /usr/bin/git push", tty: "pty", wantCode: 0, wantOut: "ran (allow once)\n"},
		{name: "no terminal denies", script: "ask /usr/bin/git push", wantCode: 1, wantOut: "Execution denied: no terminal to ask on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := engine.DefaultOptions()
			opts.Script = tt.script
			if tt.timeout > 0 {
				opts.Timeout = tt.timeout
			}
			prompter := &ttyPrompter{Path: filepath.Join(t.TempDir(), "no-tty")}
			if tt.tty == "pty" {
				m, path := openPTY(t)
				prompter.Path = path
				answerPrompt(m, "y\n")
			}
			teeR, teeW, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			streamed := make(chan string, 1)
			go func() { b, _ := io.ReadAll(teeR); streamed <- string(b) }()
			var stderr strings.Builder
			code := runScript(context.Background(), scriptEngine{}, opts, engine.NewDecisionLog(testhelp.Logger(t), nil), t.TempDir(), prompter, teeW, &stderr)
			teeW.Close()
			out := <-streamed
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if !strings.HasPrefix(out, tt.wantOut) {
				t.Errorf("streamed %q, want prefix %q", out, tt.wantOut)
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.wantErr)
			}
		})
	}
}
