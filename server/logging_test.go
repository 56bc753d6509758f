package server

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"
)

func TestLoggerColourOnlyOnTerminal(t *testing.T) {
	var buf bytes.Buffer
	NewLogger(&buf, slog.LevelInfo).Info("hello", "k", "v")
	NewLogger(&buf, slog.LevelInfo).Debug("hidden")
	if strings.Contains(buf.String(), "\x1b[") || !strings.Contains(buf.String(), "hello k=v") || strings.Contains(buf.String(), "hidden") {
		t.Errorf("plain log = %q", buf.String())
	}

	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	NewLogger(f, slog.LevelInfo).Warn("to a file")
	data, _ := os.ReadFile(f.Name())
	if strings.Contains(string(data), "\x1b[") {
		t.Errorf("colour written to a regular file: %q", data)
	}
}

func TestQuieter(t *testing.T) {
	var buf bytes.Buffer
	log := quieter(NewLogger(&buf, slog.LevelDebug), slog.LevelWarn).With("component", "mcp")
	log.Info("session connected")
	log.Warn("trouble")
	if strings.Contains(buf.String(), "session connected") || !strings.Contains(buf.String(), "trouble component=mcp") {
		t.Errorf("got %q", buf.String())
	}
}
