package server

import (
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/lmittmann/tint"
)

// NewLogger returns the process logger: tint on w (stderr), coloured only
// when w is a terminal. stdout is never used: it carries the protocol.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	color := false
	if f, ok := w.(*os.File); ok {
		color = isTerminal(f)
	}
	return slog.New(tint.NewHandler(w, &tint.Options{
		Level:      level,
		TimeFormat: time.TimeOnly,
		NoColor:    !color,
	}))
}
