package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/execgate/execgate/engine"
	"github.com/lmittmann/tint"
)

// newLogger returns the process logger: tint on w (stderr), coloured only
// when w is a terminal. stdout is never used: it carries the protocol.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	color := false
	if f, ok := w.(*os.File); ok {
		color = isTerminal(f)
	}
	return slog.New(tint.NewTextHandler(w, &tint.Options{
		Level:       level,
		TimeFormat:  time.TimeOnly,
		NoColor:     !color,
		ReplaceAttr: printableAttrs(color),
	}))
}

// printableAttrs makes what tint would print raw printable (see
// printable): the message always (a note may quote a directory name), and
// with colour the attributes' values too. Without colour tint quotes a
// value holding control characters itself; with colour it puts ESC back
// into quoted values, which would hand the terminal the escapes of an argv
// or a path the agent chose.
func printableAttrs(color bool) func([]string, slog.Attr) slog.Attr {
	return func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 {
			switch a.Key {
			case slog.MessageKey:
				a.Value = slog.StringValue(engine.Printable(a.Value.String()))
				return a
			case slog.TimeKey, slog.LevelKey, slog.SourceKey:
				return a
			}
		}
		if !color {
			return a
		}
		switch v := a.Value.Resolve(); v.Kind() {
		case slog.KindString:
			a.Value = slog.StringValue(colorSafe(v.String()))
		case slog.KindAny:
			a.Value = slog.StringValue(colorSafe(fmt.Sprintf("%+v", v.Any())))
		}
		return a
	}
}

// colorSafe is printable for a value tint quotes with colour on: tint then
// turns every `\x1b` in the quoted text back into ESC, whether it came
// from an ESC or from those four characters, so none may be left.
func colorSafe(s string) string {
	return strings.ReplaceAll(engine.Printable(s), `\x1b`, `\u001b`)
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
