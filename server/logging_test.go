package server

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/lmittmann/tint"
)

func TestLoggerColourOnlyOnTerminal(t *testing.T) {
	var buf bytes.Buffer
	newLogger(&buf, slog.LevelInfo).Info("hello", "k", "v")
	newLogger(&buf, slog.LevelInfo).Debug("hidden")
	if strings.Contains(buf.String(), "\x1b[") || !strings.Contains(buf.String(), "hello k=v") || strings.Contains(buf.String(), "hidden") {
		t.Errorf("plain log = %q", buf.String())
	}

	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	newLogger(f, slog.LevelInfo).Warn("to a file")
	data, _ := os.ReadFile(f.Name())
	if strings.Contains(string(data), "\x1b[") {
		t.Errorf("colour written to a regular file: %q", data)
	}
}

func TestQuieter(t *testing.T) {
	var buf bytes.Buffer
	log := quieter(newLogger(&buf, slog.LevelDebug), slog.LevelWarn).With("component", "mcp")
	log.Info("session connected")
	log.Warn("trouble")
	if strings.Contains(buf.String(), "session connected") || !strings.Contains(buf.String(), "trouble component=mcp") {
		t.Errorf("got %q", buf.String())
	}
}

// TestLoggerPrintable: what the agent chose (an argv, a directory named in
// a message) reaches the log without its control characters, with colour
// (where tint would put ESC back into quoted values) and without.
func TestLoggerPrintable(t *testing.T) {
	// The last part is the four characters \x1b, which tint turns into ESC
	// in a quoted value when colour is on.
	const evil = "x\r\x1b[2J\nINF forged line `\\x1b[5m`"
	for _, color := range []bool{false, true} {
		var buf bytes.Buffer
		log := slog.New(tint.NewTextHandler(&buf, &tint.Options{NoColor: !color, ReplaceAttr: printableAttrs(color)}))
		log.Warn("ignoring rules in /ws/"+evil, "argv", []string{"ls", evil}, "workdir", evil)
		out := buf.String()
		if strings.Contains(out, "\x1b[2J") || strings.Contains(out, "\x1b[5m") || strings.Contains(out, "\r") || strings.Count(out, "\n") != 1 {
			t.Errorf("colour %v: control characters reached the log: %q", color, out)
		}
	}
}
