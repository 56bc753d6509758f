package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/execgate/execgate/engine/output"
)

// Request is a shell call before validation, from either front end.
type Request struct {
	ID      string
	Command string
	Workdir string
	Timeout time.Duration // 0: Options.Timeout
	Login   bool
	Mode    string
	Sandbox *SandboxState
	// Workspace as resolved by the front end.
	Workspace []string
	Prompter  Prompter  // the raw prompter; Execute adds expiry and pausing
	Tee       io.Writer // if non-nil, output is also streamed here as it arrives
}

// ValidateWorkdir checks that dir is an absolute path to an existing directory.
func ValidateWorkdir(dir string) error {
	switch {
	case dir == "":
		return errors.New("workdir: required (an absolute directory)")
	case !filepath.IsAbs(dir):
		return fmt.Errorf("workdir: %q is not an absolute path", dir)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("workdir: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("workdir: %q is not a directory", dir)
	}
	return nil
}

// Execute validates req and runs it on eng, returning the full result.
// dlog may be nil (decisions are then only collected, not logged).
func Execute(ctx context.Context, eng Executor, opts *Options, dlog *DecisionLog, req Request) (*Result, error) {
	if err := checkCommand(req.Command); err != nil {
		return nil, err
	}
	if err := ValidateWorkdir(req.Workdir); err != nil {
		return nil, err
	}
	if dlog == nil {
		dlog = NewDecisionLog(slog.New(slog.DiscardHandler), nil)
	}
	timeout := req.Timeout
	if timeout == 0 {
		timeout = opts.Timeout
	}
	timeout = min(timeout, MaxTimeout)
	var opt []output.Option
	if req.Tee != nil {
		opt = append(opt, output.WithTee(req.Tee))
	}
	out := output.NewCapture(opts.MaxOutput, opt...)
	budget := NewBudget(timeout)
	defer budget.Stop()
	decisions := newDecisions(req.ID, dlog)
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	decisions.onAuditFailure = stop
	// Without a prompter, Call.Ask denies every prompt, saying so.
	var prompter Prompter
	if req.Prompter != nil {
		prompter = pausing{P: Expiring{P: req.Prompter, Timeout: opts.PromptTimeout}, Budget: budget}
	}
	call := &Call{
		ID:        req.ID,
		Command:   req.Command,
		Workdir:   filepath.Clean(req.Workdir),
		Login:     req.Login,
		Mode:      req.Mode,
		Sandbox:   req.Sandbox,
		Workspace: req.Workspace,
		Budget:    budget,
		Prompter:  prompter,
		Output:    out,
		Decisions: decisions,
		Log:       dlog.log.With("call", req.ID),
	}
	start := time.Now()
	oc, err := eng.Exec(ctx, call)
	if err != nil {
		return nil, err
	}
	return &Result{
		ExitCode:  oc.ExitCode,
		Output:    out.String(),
		Duration:  time.Since(start),
		TimedOut:  oc.TimedOut,
		Decisions: decisions.List(),
		Note:      joinNotes(decisions.auditNote(), oc.Note),
	}, nil
}

// joinNotes joins the non-empty notes of a call into its one Note, in
// order.
func joinNotes(notes ...string) string {
	return strings.Join(slices.DeleteFunc(notes, func(n string) bool { return n == "" }), "; ")
}
