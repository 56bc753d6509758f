//go:build !linux

package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
)

// errNoEngine: the engine relies on Linux (the sandbox helper, fd passing
// and process-group tracking of escalate), so elsewhere it refuses to run
// rather than run commands unconfined and unchecked.
var errNoEngine = errors.New("the execution engine is only available on Linux: nothing can be run here")

type engine struct{}

func newEngine(*Options, *slog.Logger, string) (*engine, error) { return nil, errNoEngine }

func installHelpers(string, string) error { return errNoEngine }

func (*engine) Exec(context.Context, *Call) (Outcome, error) { return Outcome{}, errNoEngine }

func (*engine) Close() error { return nil }

func (*engine) report(io.Writer) {}

func (*engine) clientEnv() map[string]string { return nil }

func (*engine) logRules(*slog.Logger) {}
