package wrapper_test

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/frame"
)

// Tests of every way an escalation can end: the wrapper's stdout, stderr
// and wait status, and the SuperExec and Forward frames the server gets.

// escalateReply answers Escalate and then ends as r says (see reply).
func escalateReply(r reply) func(escalate.Request) reply {
	return func(escalate.Request) reply {
		r.resp = escalate.Response{Action: escalate.Escalate}
		return r
	}
}

func resultReply(code, sig int) func(escalate.Request) reply {
	return escalateReply(reply{result: &escalate.SuperExecResult{ExitCode: code, Signal: sig}})
}

func rawResultReply(b []byte) func(escalate.Request) reply {
	return escalateReply(reply{rawResult: b})
}

// TestEscalateResults: each result the server may send, well-formed or
// not, ends the wrapper as it should.
func TestEscalateResults(t *testing.T) {
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	sh := func(script string) []string { return []string{"/bin/sh", "sh", "-c", script} }
	trueArgv := []string{"/bin/true", "true"}
	long := `{"exit_code":3,"pad":"` + strings.Repeat("x", 200) + `"}`
	tests := []struct {
		name   string
		argv   []string
		decide func(escalate.Request) reply
		status string // describeStatus of the wrapper
		stderr string // the wrapper's stderr
	}{
		// The command runs on the server's side with the wrapper's stdio.
		{"command exit 3", sh("echo out; echo err >&2; exit 3"), escalateAlways, "exit 3", "err\n"},
		{"command killed by SIGTERM", sh("kill -TERM $$"), escalateAlways, "signal terminated", ""},
		{"command killed by SIGSEGV", sh("kill -SEGV $$"), escalateAlways, "signal segmentation fault", ""},
		{"command killed by SIGKILL", sh("kill -KILL $$"), escalateAlways, "signal killed", ""},
		// Results as the server encodes them.
		{"exit 0", trueArgv, resultReply(0, 0), "exit 0", ""},
		{"exit 1", trueArgv, resultReply(1, 0), "exit 1", ""},
		{"exit 255", trueArgv, resultReply(255, 0), "exit 255", ""},
		{"exit 256 is 0", trueArgv, resultReply(256, 0), "exit 0", ""},
		{"exit -1 is 255", trueArgv, resultReply(-1, 0), "exit 255", ""},
		{"exit with 18 digits", trueArgv, resultReply(123456789012345678, 0), "exit 78", ""},
		{"SIGTERM", trueArgv, resultReply(143, 15), "signal terminated", ""},
		{"SIGKILL", trueArgv, resultReply(137, 9), "signal killed", ""},
		{"SIGSEGV", trueArgv, resultReply(139, 11), "signal segmentation fault", ""},
		// Signals the Go runtime catches or ignores: the wrapper must
		// still die of them.
		{"SIGINT", trueArgv, resultReply(130, 2), "signal interrupt", ""},
		{"SIGQUIT", trueArgv, resultReply(131, 3), "signal quit", ""},
		{"SIGUSR1", trueArgv, resultReply(138, 10), "signal user defined signal 1", ""},
		{"SIGCHLD does not kill: 128+17", trueArgv, resultReply(145, 17), "exit 145", ""},
		{"SIGWINCH does not kill: 128+28", trueArgv, resultReply(156, 28), "exit 156", ""},
		{"SIGSTOP does not kill: 128+19", trueArgv, resultReply(147, 19), "exit 147", ""},
		{"signal 65: 128+65", trueArgv, resultReply(1, 65), "exit 193", ""},
		{"signal -3: 128-3", trueArgv, resultReply(1, -3), "exit 125", ""},
		// Other encodings json.Unmarshal accepts.
		{"space after colon", trueArgv, rawResultReply(frameBytes(`{"exit_code": 4}`)), "exit 4", ""},
		{"trailing space", trueArgv, rawResultReply(frameBytes(`{"exit_code":4} `)), "exit 4", ""},
		{"other case", trueArgv, rawResultReply(frameBytes(`{"EXIT_CODE":4}`)), "exit 4", ""},
		{"fields swapped", trueArgv, rawResultReply(frameBytes(`{"signal":15,"exit_code":143}`)), "signal terminated", ""},
		// Not what the server writes (omitempty), but decoded alike.
		{"explicit signal 0", trueArgv, rawResultReply(frameBytes(`{"exit_code":5,"signal":0}`)), "exit 5", ""},
		{"null signal", trueArgv, rawResultReply(frameBytes(`{"exit_code":5,"signal":null}`)), "exit 5", ""},
		{"minus zero", trueArgv, rawResultReply(frameBytes(`{"exit_code":-0}`)), "exit 0", ""},
		{"19 digits", trueArgv, rawResultReply(frameBytes(`{"exit_code":1000000000000000001}`)), "exit 1", ""},
		{"unknown field", trueArgv, rawResultReply(frameBytes(`{"exit_code":6,"why":"x"}`)), "exit 6", ""},
		{"long payload", trueArgv, rawResultReply(frameBytes(long)), "exit 3", ""},
		// Everything else fails closed with readResult's messages.
		{"leading zero", trueArgv, rawResultReply(frameBytes(`{"exit_code":01}`)), "exit 126",
			"execgate-execve-wrapper: malformed exit status from the server: \"{\\\"exit_code\\\":01}\"\n"},
		{"overflow", trueArgv, rawResultReply(frameBytes(`{"exit_code":99999999999999999999}`)), "exit 126",
			"execgate-execve-wrapper: malformed exit status from the server: \"{\\\"exit_code\\\":99999999999999999999}\"\n"},
		{"no exit_code", trueArgv, rawResultReply(frameBytes(`{"code":1}`)), "exit 126",
			"execgate-execve-wrapper: malformed exit status from the server: \"{\\\"code\\\":1}\"\n"},
		{"null exit_code", trueArgv, rawResultReply(frameBytes(`{"exit_code":null}`)), "exit 126",
			"execgate-execve-wrapper: malformed exit status from the server: \"{\\\"exit_code\\\":null}\"\n"},
		{"trailing data", trueArgv, rawResultReply(frameBytes(`{"exit_code":3}x`)), "exit 126",
			"execgate-execve-wrapper: malformed exit status from the server: \"{\\\"exit_code\\\":3}x\"\n"},
		{"long malformed", trueArgv, rawResultReply(frameBytes(long[:len(long)-1])), "exit 126",
			"execgate-execve-wrapper: malformed exit status from the server: \"" + strings.ReplaceAll(long[:120], `"`, `\"`) + "\"...\n"},
		{"closed without a result", trueArgv, rawResultReply([]byte{}), "exit 126",
			"execgate-execve-wrapper: no exit status from the server for the escalated command: frame: connection closed by peer\n"},
		{"half a header", trueArgv, rawResultReply([]byte{15, 0}), "exit 126",
			"execgate-execve-wrapper: no exit status from the server for the escalated command: frame: connection closed inside a frame header\n"},
		{"cut short", trueArgv, rawResultReply(frameBytes(`{"exit_code":1}`)[:10]), "exit 126",
			"execgate-execve-wrapper: no exit status from the server for the escalated command: frame: connection closed inside a 15-byte frame\n"},
		{"oversized", trueArgv, rawResultReply([]byte{0xff, 0xff, 0xff, 0xff, '{'}), "exit 126",
			fmt.Sprintf("execgate-execve-wrapper: no exit status from the server for the escalated command: frame: 4294967295 bytes announced, over the %d-byte limit\n", frame.MaxPayload)},
		{"descriptors with the result", trueArgv,
			escalateReply(reply{result: &escalate.SuperExecResult{}, resultFds: []int{int(devNull.Fd())}}), "exit 126",
			"execgate-execve-wrapper: server sent file descriptors with the exit status; expected none\n"},
		// Errors on the stream.
		{"SuperExec send fails", trueArgv, escalateReply(reply{shutRead: true}), "exit 126",
			"execgate-execve-wrapper: cannot hand stdio to the server: frame: send frame: broken pipe\n"},
		{"result read fails", trueArgv, escalateReply(reply{resetAfterForward: true}), "exit 126",
			"execgate-execve-wrapper: no exit status from the server for the escalated command: frame: receive frame: connection reset by peer\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := runMarked(t, marked{wrapper: wrapperPath, argv: tt.argv, env: []string{"PATH=/usr/bin:/bin"}, dir: t.TempDir()}, tt.decide)
			// The whole wait status: exit code, or signal and core flag.
			if describeStatus(run.status) != tt.status || run.stderr != tt.stderr {
				t.Errorf("got %s (%#x), want status %s stderr %q", run.outcome, uint32(run.status), tt.status, tt.stderr)
			}
			// SuperExec: descriptors 0, 1, 2 in SCM_RIGHTS, and they
			// are the wrapper's own stdio.
			if tt.name == "SuperExec send fails" {
				if len(run.supers) != 0 {
					t.Errorf("server read SuperExec %+v after shutting its reading side", run.supers)
				}
				return
			}
			if len(run.supers) != 1 {
				t.Fatalf("server got %d SuperExec frames, want 1", len(run.supers))
			}
			se := run.supers[0]
			if se.payload != `{"fds":[0,1,2]}` || se.n != 3 || !reflect.DeepEqual(se.files, run.stdio) {
				t.Errorf("SuperExec %q with %d descriptors %v, want {\"fds\":[0,1,2]} with the wrapper's stdio %v", se.payload, se.n, se.files, run.stdio)
			}
		})
	}
}

// TestEscalateClosedStdout: with descriptor 1 closed at start, the Go
// runtime opens /dev/null there, and the command gets and writes to it.
func TestEscalateClosedStdout(t *testing.T) {
	argv := []string{"/bin/sh", "sh", "-c", `echo hidden; echo "status $?" >&2`}
	got := runMarked(t, marked{wrapper: wrapperPath, argv: argv, env: []string{"PATH=/usr/bin:/bin"}, dir: "/", closeStdout: true}, escalateAlways)
	if len(got.supers) != 1 || got.supers[0].payload != `{"fds":[0,1,2]}` || got.supers[0].n != 3 {
		t.Errorf("server got SuperExec %+v", got.supers)
	}
	if got.stderr != "status 0\n" || got.status.ExitStatus() != 0 {
		t.Errorf("got %s, want the command to write to /dev/null", got.outcome)
	}
}

// TestEscalateForwardsInheritedSignals: a forwarded signal sent to the
// wrapper reaches the escalated process group as a Forward frame, also when
// the wrapper inherited INT and HUP ignored (os/signal's Notify catches them
// anyway) or QUIT blocked, and a signal the Go runtime drops (USR1, ALRM)
// or a stop and continue does not end the wrapper.
func TestEscalateForwardsInheritedSignals(t *testing.T) {
	tests := []struct {
		name    string
		extra   []syscall.Signal // sent first, must change nothing
		sig     syscall.Signal
		signals string // signal helper spec for the wrapper's start
		frame   string
	}{
		{"INT", nil, syscall.SIGINT, "", `{"signal":2}`},
		{"WINCH", nil, syscall.SIGWINCH, "", `{"signal":28}`},
		{"TERM", nil, syscall.SIGTERM, "", `{"signal":15}`},
		{"INT inherited ignored", nil, syscall.SIGINT, "ignore=1,2", `{"signal":2}`},
		{"HUP inherited ignored", nil, syscall.SIGHUP, "ignore=1,2", `{"signal":1}`},
		{"QUIT inherited blocked", nil, syscall.SIGQUIT, "block=3", `{"signal":3}`},
		{"USR1 and ALRM dropped", []syscall.Signal{syscall.SIGUSR1, syscall.SIGALRM}, syscall.SIGINT, "", `{"signal":2}`},
		// The wait goes on after the wrapper was stopped and continued.
		{"stopped and continued", []syscall.Signal{syscall.SIGSTOP, syscall.SIGCONT}, syscall.SIGINT, "", `{"signal":2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, escalateAlways)
			name := strings.TrimPrefix(unixSignalName(tt.sig), "SIG")
			// Bounded (about 10 s), so a wrapper that died instead of
			// forwarding fails the test rather than hanging it.
			script := "trap 'echo got " + name + "; exit 7' " + name + "; echo ready; i=0; while [ $i -lt 500 ]; do sleep 0.02; i=$((i+1)); done; echo timeout"
			p := proc{argv: []string{"/bin/sh", "sh", "-c", script}, wrapper: wrapperPath, signals: tt.signals}
			cmd := p.command(s, true)
			lines := startReady(t, cmd)
			for _, sig := range append(tt.extra, tt.sig) {
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
			}
			if !lines.Scan() || lines.Text() != "got "+name {
				t.Errorf("escalated command printed %q, want %q", lines.Text(), "got "+name)
			}
			cmd.Wait()
			if got := describeStatus(cmd.ProcessState.Sys().(syscall.WaitStatus)); got != "exit 7" {
				t.Errorf("wrapper ended with %s, want exit 7", got)
			}
			if got := s.forwarded(); !reflect.DeepEqual(got, []string{tt.frame}) {
				t.Errorf("server got Forward frames %q, want [%s]", got, tt.frame)
			}
		})
	}
}

// TestEscalateRealSession: the patched Bash, the real escalate.Session and
// the wrapper: Bash sees the exit statuses and deaths by signal of the
// escalated commands.
func TestEscalateRealSession(t *testing.T) {
	s := realSession(t, func(e escalate.Exec) escalate.Action {
		if strings.HasSuffix(e.File, "/sh") {
			return escalate.Escalate
		}
		return escalate.Run
	})
	script := `/bin/sh -c 'exit 5'; echo "status $?"; /bin/sh -c 'kill -TERM $$'; echo "status $?"; ` +
		`/bin/sh -c 'kill -SEGV $$'; echo "status $?"; echo x | /bin/sh -c 'cat; exit 256'; echo "status $?"`
	stdout, stderr := sessionBash(t, s, wrapperPath, script)
	wantOut := "status 5\nstatus 143\nstatus 139\nx\nstatus 0\n"
	if stdout != wantOut || strings.Count(stderr, "\n") != 2 ||
		!strings.Contains(stderr, "Terminated") || !strings.Contains(stderr, "Segmentation fault") {
		t.Errorf("got stdout %q stderr %q, want %q and Bash's two signal reports only", stdout, stderr, wantOut)
	}
}
