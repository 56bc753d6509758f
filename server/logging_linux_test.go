package server

import (
	"bufio"
	"log/slog"
	"os"
	"strings"
	"testing"
)

func TestLoggerColourOnTerminal(t *testing.T) {
	m, path := openPTY(t)
	tty, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	newLogger(tty, slog.LevelInfo).Warn("coloured")
	line, err := bufio.NewReader(m).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(line, "\x1b[") {
		t.Errorf("no colour on a terminal: %q", line)
	}
}
