//go:build !linux

package engine

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

type Engine struct{}

func newEngine(*Options, *slog.Logger, string) (*Engine, error) { return nil, errNoEngine }

func InstallHelpers(string, string) error { return errNoEngine }

func (*Engine) Exec(context.Context, *Call) (Outcome, error) { return Outcome{}, errNoEngine }

func (*Engine) Close() error { return nil }

func (*Engine) Report(io.Writer) {}

func (*Engine) ClientEnv() map[string]string { return nil }

func (*Engine) LogRules(*slog.Logger) {}
