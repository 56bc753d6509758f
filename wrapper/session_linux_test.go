package wrapper_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/testbash"
)

// With the real server side: escalate.Session, the patched Bash and the
// wrapper, so the two halves of the protocol (including the Forward and
// signal extensions) are checked against each other, not only against the
// scripted server.

// realSession serves decide until the test ends.
func realSession(t *testing.T, decide func(escalate.Exec) escalate.Action) *escalate.Session {
	t.Helper()
	s, err := escalate.NewSession(escalate.DeciderFunc(func(_ context.Context, e escalate.Exec) escalate.Decision {
		a := decide(e)
		reason := ""
		if a == escalate.Deny {
			reason = "not " + filepath.Base(e.File)
		}
		return escalate.Decision{Action: a, Reason: reason}
	}), escalate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}

// sessionBash runs `bash -c script` with the patched Bash in a fresh
// directory, as the sandbox helper sets it up for the real session s (the
// socket at 3, EXEC_WRAPPER=wrapper), with env added, and returns its
// output once it has ended.
func sessionBash(t *testing.T, s *escalate.Session, wrapper, script string, env ...string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(testbash.Path(t), "-c", script)
	cmd.Dir = t.TempDir()
	cmd.ExtraFiles = []*os.File{s.ChildFile()}
	cmd.Env = append(append([]string{"PATH=/usr/bin:/bin", "LC_ALL=C"}, env...), escalate.ShellEnv(3, wrapper)...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Start()
	s.CloseChild()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	return out.String(), errOut.String()
}

func TestRealSession(t *testing.T) {
	decide := func(e escalate.Exec) escalate.Action {
		switch filepath.Base(e.File) {
		case "rm":
			return escalate.Deny
		case "sh", "tr", "echo":
			return escalate.Escalate
		}
		return escalate.Run
	}
	tests := []struct {
		name, script, stdout, stderr string
	}{
		{"run", `/usr/bin/printf '%s\n' run`, "run\n", ""},
		{"escalated pipeline", `/bin/echo hello | /usr/bin/tr a-z A-Z`, "HELLO\n", ""},
		{"escalated exit status", `/bin/sh -c 'exit 5'; echo "status $?"`, "status 5\n", ""},
		{"escalated death by signal", `/bin/sh -c 'kill -TERM $$'; echo "status $?"`, "status 143\n", "Terminated\n"},
		{"escalated stdin", `printf 'abc\n' | /usr/bin/tr a-z A-Z`, "ABC\n", ""},
		{"deny", `/bin/rm -f /nonexistent; echo "status $?"`, "status 1\n", "Execution denied: not rm\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr := sessionBash(t, realSession(t, decide), wrapperPath, tt.script)
			if stdout != tt.stdout || stderr != tt.stderr {
				t.Errorf("got stdout %q stderr %q, want %q %q", stdout, stderr, tt.stdout, tt.stderr)
			}
		})
	}
}

// TestRealSessionForwardsSIGINT: Ctrl-C sent to the wrapper reaches the
// command the real session runs outside.
func TestRealSessionForwardsSIGINT(t *testing.T) {
	s := realSession(t, func(escalate.Exec) escalate.Action { return escalate.Escalate })
	script := "trap 'echo got INT; exit 9' INT; echo ready; while :; do sleep 0.02; done"
	cmd := exec.Command(wrapperPath, "/bin/sh", "sh", "-c", script)
	cmd.ExtraFiles = []*os.File{s.ChildFile()}
	cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, escalate.ShellEnv(3, wrapperPath)...)
	lines := startReady(t, cmd)
	s.CloseChild()
	cmd.Process.Signal(syscall.SIGINT)
	if !lines.Scan() || lines.Text() != "got INT" {
		t.Errorf("escalated command printed %q, want \"got INT\"", lines.Text())
	}
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 9 {
		t.Errorf("wrapper exit %d, want 9", code)
	}
}
