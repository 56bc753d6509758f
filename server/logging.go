package server

import (
	"context"
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

// atLeast drops records below min: the MCP SDK reports every connection at
// info, which is noise in a client's log pane unless debugging.
type atLeast struct {
	slog.Handler
	min slog.Level
}

func (h atLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h atLeast) WithAttrs(as []slog.Attr) slog.Handler {
	return atLeast{h.Handler.WithAttrs(as), h.min}
}

func (h atLeast) WithGroup(name string) slog.Handler {
	return atLeast{h.Handler.WithGroup(name), h.min}
}

// quieter returns log with records below min dropped.
func quieter(log *slog.Logger, min slog.Level) *slog.Logger {
	return slog.New(atLeast{log.Handler(), min})
}
