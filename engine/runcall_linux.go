package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/parked"
)

// killDelay is how long the sandbox helper gets to end the call's processes
// after SIGTERM before its whole process group is SIGKILLed.
const killDelay = 200 * time.Millisecond

// runCall runs the sandbox helper that start starts (with out as its
// stdout and stderr, fd 3 the session's child end) as one call: output
// copied into call.Output, the session serving every exec meanwhile. It ends the call
// on budget expiry (TimedOut, exit status 124) or when ctx ends, gives
// background jobs holding the output DefaultGrace after Bash exits, and
// returns only when no process of the call is left: the helper ends the
// sandboxed ones, the session the escalated ones.
func runCall(ctx context.Context, call *Call, start func(out *os.File) (*exec.Cmd, error), sess *escalate.Session, stopHelper context.CancelFunc) (Outcome, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		sess.Close()
		return Outcome{}, fmt.Errorf("output pipe: %w", err)
	}
	defer pr.Close()

	// The session outlives ctx by the moment end needs: ending the
	// escalated commands before Bash would make Bash report them killed.
	sessCtx, endSession := context.WithCancel(context.WithoutCancel(ctx))
	defer endSession()
	served := make(chan error, 1)
	go func() { served <- sess.Serve(sessCtx) }()

	cmd, err := start(pw)
	pw.Close() // the call's processes hold the only write ends now
	sess.CloseChild()
	if err != nil {
		endSession()
		<-served
		return Outcome{}, err
	}
	pgid := cmd.Process.Pid
	killGroup := func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) }

	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(call.Output, pr) // Output never fails; pr closing ends it
	}()
	waited := make(chan error, 1)
	go func() {
		// Parked until the helper exits, so that no thread sits in
		// waitid for the whole call (see internal/parked); where that
		// cannot be done, Wait blocks as before.
		_ = parked.Exited(cmd.Process.Pid)
		waited <- cmd.Wait()
	}()

	// end stops everything: the helper kills the sandboxed processes (it is
	// their pid 1 or subreaper), a helper that does not exit in time is
	// killed with its group, then the session kills the escalated ones.
	end := func() error {
		stopHelper()
		t := time.AfterFunc(killDelay, killGroup)
		defer t.Stop()
		err := <-waited
		endSession()
		return err
	}

	var oc Outcome
	var waitErr error
	var expired <-chan struct{}
	if call.Budget != nil {
		expired = call.Budget.Expired()
	}
	select {
	case waitErr = <-waited:
	case <-expired:
		oc.TimedOut = true
		waitErr = end()
	case <-ctx.Done():
		oc.Note = "cancelled: " + context.Cause(ctx).Error()
		waitErr = end()
	}
	if call.Budget != nil {
		call.Budget.Stop()
	}

	// Bash has exited and the helper has ended every sandboxed process;
	// what may still hold the output is an escalated background job.
	select {
	case <-copied:
	case <-time.After(DefaultGrace):
		endSession()
		killGroup()
		if oc.Note == "" && !oc.TimedOut {
			oc.Note = NoteBackgroundKilled
		}
		select {
		case <-copied:
		case <-time.After(time.Second):
			pr.Close() // a holder beyond our reach: stop reading
			<-copied
		}
	}
	endSession()
	if err := <-served; err != nil && call.Log != nil {
		call.Log.Warn("escalate session failed", "error", err)
	}
	killGroup()
	oc.ExitCode = ExitCode(cmd.ProcessState, waitErr)
	if oc.TimedOut {
		oc.ExitCode = ExitTimeout
	}
	return oc, nil
}
