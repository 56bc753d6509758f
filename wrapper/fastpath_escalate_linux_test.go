package wrapper_test

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/execgate/execgate/escalate"
)

// Tests of the Escalate half of the pre-runtime fast path
// (fastpath_linux_amd64.s, section 9): every case runs on the default build
// (the Go path, superExec) and on the early-entry build, which must behave
// the same byte for byte: the wrapper's stdout, stderr and wait status, the
// SuperExec and Forward frames. Whether the early-entry build's Go runtime
// started at all shows in its init trace (GODEBUG=inittrace=1, see
// fastpath_linux_test.go): never on the fast path, always after a handover.

// runtimeStarted reports whether stderr holds the Go runtime's init trace.
func runtimeStarted(stderr string) bool { return withoutInittrace(stderr) != stderr }

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

// TestFastEscalateDifferential compares the two builds on every way an
// escalation can end, and checks which of them the fast path decides itself
// (fast) and which it leaves to Go.
func TestFastEscalateDifferential(t *testing.T) {
	requireFastPath(t)
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
		fast   bool   // decided without the Go runtime
		status string // describeStatus of the wrapper, both builds
		stderr string // the wrapper's stderr without the init trace, both builds
	}{
		// The command runs on the server's side with the wrapper's stdio.
		{"command exit 3", sh("echo out; echo err >&2; exit 3"), escalateAlways, true, "exit 3", "err\n"},
		{"command killed by SIGTERM", sh("kill -TERM $$"), escalateAlways, true, "signal terminated", ""},
		{"command killed by SIGSEGV", sh("kill -SEGV $$"), escalateAlways, true, "signal segmentation fault", ""},
		{"command killed by SIGKILL", sh("kill -KILL $$"), escalateAlways, true, "signal killed", ""},
		// Results as the server encodes them.
		{"exit 0", trueArgv, resultReply(0, 0), true, "exit 0", ""},
		{"exit 1", trueArgv, resultReply(1, 0), true, "exit 1", ""},
		{"exit 255", trueArgv, resultReply(255, 0), true, "exit 255", ""},
		{"exit 256 is 0", trueArgv, resultReply(256, 0), true, "exit 0", ""},
		{"exit -1 is 255", trueArgv, resultReply(-1, 0), true, "exit 255", ""},
		{"exit with 18 digits", trueArgv, resultReply(123456789012345678, 0), true, "exit 78", ""},
		{"SIGTERM", trueArgv, resultReply(143, 15), true, "signal terminated", ""},
		{"SIGKILL", trueArgv, resultReply(137, 9), true, "signal killed", ""},
		{"SIGSEGV", trueArgv, resultReply(139, 11), true, "signal segmentation fault", ""},
		// Forwarded signals are blocked on the fast path, USR1 ignored: the
		// wrapper must still die of them.
		{"SIGINT", trueArgv, resultReply(130, 2), true, "signal interrupt", ""},
		{"SIGQUIT", trueArgv, resultReply(131, 3), true, "signal quit", ""},
		{"SIGUSR1", trueArgv, resultReply(138, 10), true, "signal user defined signal 1", ""},
		{"SIGCHLD does not kill: 128+17", trueArgv, resultReply(145, 17), true, "exit 145", ""},
		{"SIGWINCH does not kill: 128+28", trueArgv, resultReply(156, 28), true, "exit 156", ""},
		{"SIGSTOP does not kill: 128+19", trueArgv, resultReply(147, 19), true, "exit 147", ""},
		{"signal 65: 128+65", trueArgv, resultReply(1, 65), true, "exit 193", ""},
		{"signal -3: 128-3", trueArgv, resultReply(1, -3), true, "exit 125", ""},
		// Other encodings json.Unmarshal accepts: Go decides.
		{"space after colon", trueArgv, rawResultReply(frame(`{"exit_code": 4}`)), false, "exit 4", ""},
		{"trailing space", trueArgv, rawResultReply(frame(`{"exit_code":4} `)), false, "exit 4", ""},
		{"other case", trueArgv, rawResultReply(frame(`{"EXIT_CODE":4}`)), false, "exit 4", ""},
		{"fields swapped", trueArgv, rawResultReply(frame(`{"signal":15,"exit_code":143}`)), false, "signal terminated", ""},
		// Not what the server writes (omitempty), but decoded alike.
		{"explicit signal 0", trueArgv, rawResultReply(frame(`{"exit_code":5,"signal":0}`)), true, "exit 5", ""},
		{"null signal", trueArgv, rawResultReply(frame(`{"exit_code":5,"signal":null}`)), false, "exit 5", ""},
		{"minus zero", trueArgv, rawResultReply(frame(`{"exit_code":-0}`)), false, "exit 0", ""},
		{"19 digits", trueArgv, rawResultReply(frame(`{"exit_code":1000000000000000001}`)), false, "exit 1", ""},
		{"unknown field", trueArgv, rawResultReply(frame(`{"exit_code":6,"why":"x"}`)), false, "exit 6", ""},
		{"long payload", trueArgv, rawResultReply(frame(long)), false, "exit 3", ""},
		// Everything else fails closed with readResult's messages.
		{"leading zero", trueArgv, rawResultReply(frame(`{"exit_code":01}`)), false, "exit 126",
			"execgate-execve-wrapper: malformed exit status from the server: \"{\\\"exit_code\\\":01}\"\n"},
		{"overflow", trueArgv, rawResultReply(frame(`{"exit_code":99999999999999999999}`)), false, "exit 126",
			"execgate-execve-wrapper: malformed exit status from the server: \"{\\\"exit_code\\\":99999999999999999999}\"\n"},
		{"no exit_code", trueArgv, rawResultReply(frame(`{"code":1}`)), false, "exit 126",
			"execgate-execve-wrapper: malformed exit status from the server: \"{\\\"code\\\":1}\"\n"},
		{"null exit_code", trueArgv, rawResultReply(frame(`{"exit_code":null}`)), false, "exit 126",
			"execgate-execve-wrapper: malformed exit status from the server: \"{\\\"exit_code\\\":null}\"\n"},
		{"trailing data", trueArgv, rawResultReply(frame(`{"exit_code":3}x`)), false, "exit 126",
			"execgate-execve-wrapper: malformed exit status from the server: \"{\\\"exit_code\\\":3}x\"\n"},
		{"long malformed", trueArgv, rawResultReply(frame(long[:len(long)-1])), false, "exit 126",
			"execgate-execve-wrapper: malformed exit status from the server: \"" + strings.ReplaceAll(long[:120], `"`, `\"`) + "\"...\n"},
		{"closed without a result", trueArgv, rawResultReply([]byte{}), false, "exit 126",
			"execgate-execve-wrapper: no exit status from the server for the escalated command: escalate: connection closed by peer\n"},
		{"half a header", trueArgv, rawResultReply([]byte{15, 0}), false, "exit 126",
			"execgate-execve-wrapper: no exit status from the server for the escalated command: escalate: connection closed inside a frame header\n"},
		{"cut short", trueArgv, rawResultReply(frame(`{"exit_code":1}`)[:10]), false, "exit 126",
			"execgate-execve-wrapper: no exit status from the server for the escalated command: escalate: connection closed inside a 15-byte frame\n"},
		{"oversized", trueArgv, rawResultReply([]byte{0xff, 0xff, 0xff, 0xff, '{'}), false, "exit 126",
			fmt.Sprintf("execgate-execve-wrapper: no exit status from the server for the escalated command: escalate: frame announces 4294967295 bytes, over the %d-byte limit\n", escalate.MaxPayload)},
		{"descriptors with the result", trueArgv,
			escalateReply(reply{result: &escalate.SuperExecResult{}, resultFds: []int{int(devNull.Fd())}}), false, "exit 126",
			"execgate-execve-wrapper: server sent file descriptors with the exit status; expected none\n"},
		// Errors the fast path hands to Go as an errno.
		{"SuperExec send fails", trueArgv, escalateReply(reply{shutRead: true}), false, "exit 126",
			"execgate-execve-wrapper: cannot hand stdio to the server: escalate: send frame: broken pipe\n"},
		{"result read fails", trueArgv, escalateReply(reply{resetAfterForward: true}), false, "exit 126",
			"execgate-execve-wrapper: no exit status from the server for the escalated command: escalate: receive frame: connection reset by peer\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := marked{argv: tt.argv, env: []string{"PATH=/usr/bin:/bin"}, dir: t.TempDir()}
			m.wrapper = defaultWrapperPath
			goPath := runMarked(t, m, tt.decide)
			m.wrapper = exactWrapperPath
			fast := runMarked(t, m, tt.decide)
			if !runtimeStarted(goPath.stderr) {
				t.Fatalf("default build: no init trace in %q: the marker is broken", goPath.stderr)
			}
			if !fast.early {
				t.Errorf("early-entry build: the request did not come from the fast path")
			}
			if runtimeStarted(fast.stderr) == tt.fast {
				t.Errorf("early-entry build: Go runtime started: %v, want %v (stderr %q)", runtimeStarted(fast.stderr), !tt.fast, fast.stderr)
			}
			g, f := goPath.outcome, fast.outcome
			g.stderr, f.stderr = withoutInittrace(g.stderr), withoutInittrace(f.stderr)
			// The whole wait status: exit code, or signal and core flag.
			if g != f {
				t.Errorf("the builds differ:\ndefault     %s (%#x)\nearly-entry %s (%#x)", g, uint32(g.status), f, uint32(f.status))
			}
			if describeStatus(f.status) != tt.status || f.stderr != tt.stderr {
				t.Errorf("got %s, want status %s stderr %q", f, tt.status, tt.stderr)
			}
			// SuperExec: the same payload, descriptors 0, 1, 2 in
			// SCM_RIGHTS, and they are the wrapper's own stdio.
			for _, run := range []markedOutcome{goPath, fast} {
				if tt.name == "SuperExec send fails" {
					if len(run.supers) != 0 {
						t.Errorf("server read SuperExec %+v after shutting its reading side", run.supers)
					}
					continue
				}
				if len(run.supers) != 1 {
					t.Fatalf("server got %d SuperExec frames, want 1", len(run.supers))
				}
				se := run.supers[0]
				if se.payload != `{"fds":[0,1,2]}` || se.n != 3 || !reflect.DeepEqual(se.files, run.stdio) {
					t.Errorf("SuperExec %q with %d descriptors %v, want {\"fds\":[0,1,2]} with the wrapper's stdio %v", se.payload, se.n, se.files, run.stdio)
				}
			}
		})
	}
}

// TestFastEscalateClosedStdout: with descriptor 1 closed at start the fast
// path leaves everything to Go (whose runtime opens /dev/null there, which
// the command then gets), on both builds alike.
func TestFastEscalateClosedStdout(t *testing.T) {
	requireFastPath(t)
	argv := []string{"/bin/sh", "sh", "-c", `echo hidden; echo "status $?" >&2`}
	var outs []outcome
	for _, w := range []string{defaultWrapperPath, exactWrapperPath} {
		got := runMarked(t, marked{wrapper: w, argv: argv, env: []string{"PATH=/usr/bin:/bin"}, dir: "/", closeStdout: true}, escalateAlways)
		if got.early || !runtimeStarted(got.stderr) {
			t.Errorf("%s: early=%v stderr %q, want the Go path throughout", w, got.early, got.stderr)
		}
		if len(got.supers) != 1 || got.supers[0].payload != `{"fds":[0,1,2]}` || got.supers[0].n != 3 {
			t.Errorf("%s: server got SuperExec %+v", w, got.supers)
		}
		got.stderr = withoutInittrace(got.stderr)
		outs = append(outs, got.outcome)
	}
	if outs[0] != outs[1] || outs[0].stderr != "status 0\n" || outs[0].status.ExitStatus() != 0 {
		t.Errorf("default build %s, early-entry build %s, want both to write to /dev/null", outs[0], outs[1])
	}
}

// TestFastEscalateForwardsSignals: on both builds, a forwarded signal sent to
// the wrapper reaches the escalated process group as the same Forward frame,
// also when the wrapper inherited INT and HUP ignored (os/signal's Notify
// catches them anyway; the fast path's blocked signals queue anyway), and a
// signal the Go runtime drops (USR1, ALRM) or a stop and continue does not
// end the wrapper.
func TestFastEscalateForwardsSignals(t *testing.T) {
	requireFastPath(t)
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
			for _, w := range []string{defaultWrapperPath, exactWrapperPath} {
				s := newServer(t, escalateAlways)
				name := strings.TrimPrefix(unixSignalName(tt.sig), "SIG")
				// Bounded (about 10 s), so a wrapper that died instead of
				// forwarding fails the test rather than hanging it.
				script := "trap 'echo got " + name + "; exit 7' " + name + "; echo ready; i=0; while [ $i -lt 500 ]; do sleep 0.02; i=$((i+1)); done; echo timeout"
				p := proc{argv: []string{"/bin/sh", "sh", "-c", script}, wrapper: w, signals: tt.signals}
				if tt.signals == "" {
					// The signal helper is a Go program: its own init trace
					// would hide the wrapper's.
					p.env = []string{inittrace}
				}
				cmd := p.command(s, true)
				var stderr strings.Builder
				cmd.Stderr = &stderr
				lines := startReady(t, cmd)
				for _, sig := range append(tt.extra, tt.sig) {
					if err := cmd.Process.Signal(sig); err != nil {
						t.Fatal(err)
					}
				}
				if !lines.Scan() || lines.Text() != "got "+name {
					t.Errorf("%s: escalated command printed %q, want %q", w, lines.Text(), "got "+name)
				}
				cmd.Wait()
				if got := describeStatus(cmd.ProcessState.Sys().(syscall.WaitStatus)); got != "exit 7" {
					t.Errorf("%s: wrapper ended with %s, want exit 7", w, got)
				}
				if got := s.forwarded(); !reflect.DeepEqual(got, []string{tt.frame}) {
					t.Errorf("%s: server got Forward frames %q, want [%s]", w, got, tt.frame)
				}
				if tt.signals == "" && runtimeStarted(stderr.String()) != (w == defaultWrapperPath) {
					t.Errorf("%s: stderr %q: the Go runtime started: %v", w, stderr.String(), runtimeStarted(stderr.String()))
				}
			}
		})
	}
}

// TestFastEscalateRealSession: the patched Bash, the real escalate.Session
// and the early-entry build: the fast path decodes what the real server
// writes (no Go runtime starts in any wrapper) and Bash sees the exit
// statuses and deaths by signal of the escalated commands.
func TestFastEscalateRealSession(t *testing.T) {
	requireFastPath(t)
	s := realSession(t, func(e escalate.Exec) escalate.Action {
		if strings.HasSuffix(e.File, "/sh") {
			return escalate.Escalate
		}
		return escalate.Run
	})
	script := `/bin/sh -c 'exit 5'; echo "status $?"; /bin/sh -c 'kill -TERM $$'; echo "status $?"; ` +
		`/bin/sh -c 'kill -SEGV $$'; echo "status $?"; echo x | /bin/sh -c 'cat; exit 256'; echo "status $?"`
	stdout, stderr := sessionBash(t, s, exactWrapperPath, script, inittrace)
	wantOut := "status 5\nstatus 143\nstatus 139\nx\nstatus 0\n"
	if stdout != wantOut || runtimeStarted(stderr) || strings.Count(stderr, "\n") != 2 ||
		!strings.Contains(stderr, "Terminated") || !strings.Contains(stderr, "Segmentation fault") {
		t.Errorf("got stdout %q stderr %q, want %q and Bash's two signal reports only", stdout, stderr, wantOut)
	}
}
