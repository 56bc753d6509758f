//go:build unix

package server

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/execgate/execgate/engine"
	"github.com/execgate/execgate/engine/output"
	"github.com/execgate/execgate/internal/testhelp"
)

func TestRunProcess(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	tests := []struct {
		name    string
		script  string
		timeout time.Duration
		cancel  time.Duration // cancel ctx after this long (0: never)
		// started, if set, is output the script prints once it runs: the
		// budget and the cancel timer start only then, so that a slow
		// start on a loaded machine neither eats the time the script is
		// given nor cuts it short of its first line.
		started   string
		wantCode  int
		wantOut   string
		wantTO    bool
		wantNote  string
		maxTime   time.Duration // from the start of the clock to the outcome
		checkGone bool          // the script wrote a background pid to $PIDFILE
	}{
		{name: "exit code and interleaved output", script: "echo out; echo err >&2; echo out2; exit 3",
			timeout: 10 * time.Second, wantCode: 3, wantOut: "out\nerr\nout2\n", maxTime: 5 * time.Second},
		{name: "killed by signal", script: "echo x; kill -9 $$", timeout: 10 * time.Second,
			wantCode: 137, wantOut: "x\n", maxTime: 5 * time.Second},
		{name: "stdin is empty", script: "cat; echo done", timeout: 10 * time.Second,
			wantOut: "done\n", maxTime: 5 * time.Second},
		{name: "timeout keeps partial output", script: "echo start; sleep 30 & echo $! > $PIDFILE; sleep 30",
			timeout: 300 * time.Millisecond, started: "start\n", wantCode: 137, wantOut: "start\n", wantTO: true, maxTime: 1300 * time.Millisecond, checkGone: true},
		{name: "background job holding the pipe is killed", script: "sleep 30 & echo $! > $PIDFILE; echo bye",
			timeout: 10 * time.Second, wantOut: "bye\n", wantNote: engine.NoteBackgroundKilled, maxTime: 2 * time.Second, checkGone: true},
		{name: "quiet background job is killed too", script: "sleep 30 >/dev/null 2>&1 & echo $! > $PIDFILE",
			timeout: 10 * time.Second, maxTime: 2 * time.Second, checkGone: true},
		{name: "cancellation", script: "echo a; sleep 30", timeout: 10 * time.Second, cancel: 300 * time.Millisecond,
			started: "a\n", wantCode: 137, wantOut: "a\n", wantNote: "cancelled: context canceled", maxTime: 2 * time.Second},
		{name: "setsid escapee does not hold the call", script: "setsid sleep 30 & echo $! > $PIDFILE; echo ok",
			timeout: 10 * time.Second, wantOut: "ok\n", wantNote: engine.NoteBackgroundKilled, maxTime: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pid")
			cmd := exec.Command("bash", "-c", tt.script)
			cmd.Env = append(os.Environ(), "PIDFILE="+pidFile)
			out := output.NewCapture(0)
			budget := engine.NewBudget(tt.timeout)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			clock := make(chan time.Time, 1)
			if tt.started != "" {
				budget.Pause()
				go func() {
					for !strings.Contains(out.String(), tt.started) && ctx.Err() == nil {
						time.Sleep(time.Millisecond)
					}
					clock <- time.Now()
					budget.Resume()
					if tt.cancel > 0 {
						time.AfterFunc(tt.cancel, cancel)
					}
				}()
			} else {
				clock <- time.Now()
				if tt.cancel > 0 {
					time.AfterFunc(tt.cancel, cancel)
				}
			}
			oc, err := RunProcess(ctx, cmd, out, budget, engine.DefaultGrace)
			done := time.Now()
			if err != nil {
				t.Fatal(err)
			}
			cancel() // a script that never printed tt.started stops the wait
			took := done.Sub(<-clock)
			if oc.ExitCode != tt.wantCode || oc.TimedOut != tt.wantTO || oc.Note != tt.wantNote {
				t.Errorf("outcome %+v, want code %d timedOut %v note %q", oc, tt.wantCode, tt.wantTO, tt.wantNote)
			}
			if got := out.String(); got != tt.wantOut {
				t.Errorf("output %q, want %q", got, tt.wantOut)
			}
			if took > tt.maxTime {
				t.Errorf("took %v, want at most %v", took, tt.maxTime)
			}
			if tt.checkGone {
				testhelp.WaitGone(t, pidFile)
			}
			if strings.Contains(tt.name, "setsid") {
				// Out of RunProcess's reach by design (the sandbox's PID
				// namespace handles it); do not leave it running.
				if data, err := os.ReadFile(pidFile); err == nil {
					if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
						syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			}
		})
	}
}

func TestRunProcessRejectsOwnOutput(t *testing.T) {
	cmd := exec.Command("true")
	cmd.Stdout = os.Stdout
	if _, err := RunProcess(context.Background(), cmd, output.NewCapture(0), engine.NewBudget(time.Second), engine.DefaultGrace); err == nil {
		t.Error("RunProcess accepted a cmd with Stdout set")
	}
}
