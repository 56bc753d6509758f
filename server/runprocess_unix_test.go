//go:build unix

package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/execgate/execgate/engine"
)

// RunProcess is the test engine's way to run a call (mcp_test.go): it
// runs cmd (not yet started) as one call's process tree: stdout
// and stderr on one pipe copied into out, stdin from /dev/null, in a new
// process group that is SIGKILLed when budget expires (TimedOut) or ctx ends.
// After the script exits, processes still holding the pipe get grace to
// finish, then are killed (Outcome.Note says so). The engine builds cmd
// (sandbox helper, Bash, escalate socket in ExtraFiles) and kills what it
// escalated itself; a process that left the group (setsid) and the sandbox's
// PID namespace both is beyond RunProcess's reach, which is why the sandbox
// helper puts the call in its own PID namespace.
func RunProcess(ctx context.Context, cmd *exec.Cmd, out io.Writer, budget *engine.Budget, grace time.Duration) (engine.Outcome, error) {
	if cmd.Stdout != nil || cmd.Stderr != nil {
		return engine.Outcome{}, errors.New("RunProcess: cmd.Stdout and cmd.Stderr must be unset (RunProcess owns the output pipe)")
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return engine.Outcome{}, fmt.Errorf("output pipe: %w", err)
	}
	defer pr.Close()
	cmd.Stdout, cmd.Stderr = pw, pw
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	setParentDeathSignal(cmd.SysProcAttr)
	err = cmd.Start()
	pw.Close() // the children hold the only write ends now
	if err != nil {
		return engine.Outcome{}, fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	pgid := cmd.Process.Pid
	killGroup := func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) }

	copied := make(chan struct{})
	go func() {
		defer close(copied)
		// out never fails (an output.Capture); a read error means the pipe was
		// abandoned below.
		_, _ = io.Copy(out, pr)
	}()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	var oc engine.Outcome
	var waitErr error
	select {
	case waitErr = <-waited:
	case <-budget.Expired():
		oc.TimedOut = true
		killGroup()
		waitErr = <-waited
	case <-ctx.Done():
		oc.Note = "cancelled: " + context.Cause(ctx).Error()
		killGroup()
		waitErr = <-waited
	}
	budget.Stop()

	// Bash has exited; give its background jobs a moment to close the pipe.
	select {
	case <-copied:
	case <-time.After(grace):
		killGroup()
		if oc.Note == "" && !oc.TimedOut {
			oc.Note = engine.NoteBackgroundKilled
		}
		select {
		case <-copied:
		case <-time.After(grace):
			// Someone outside the group still holds the pipe: stop reading.
			pr.Close()
			<-copied
		}
	}
	// Nothing of the call outlives it, even a job that closed its output.
	killGroup()
	oc.ExitCode = engine.ExitCode(cmd.ProcessState, waitErr)
	return oc, nil
}
