package wrapper_test

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/execgate/execgate/escalate"
)

// Tests of the pre-runtime Run fast path (fastpath_linux_amd64.s), which only
// the early-entry build has (its Escalate half: fastpath_escalate_linux_test.go).
//
// How a test knows which path sent the request: the wrapper runs with
// GODEBUG=inittrace=1, so the Go runtime writes a line per package init to
// stderr before any Go code runs, and stderr is a plain file. When the
// server gets the request and that file is still empty, the request came
// from the fast path; on the Go path the lines were written before the
// request was sent. On a Run answer the fast path execs the program without
// ever starting the runtime, so stderr stays empty for good.

const inittrace = "GODEBUG=inittrace=1"

func requireFastPath(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the fast path exists on linux/amd64 only")
	}
}

// markedOutcome is what runMarked saw.
type markedOutcome struct {
	outcome
	// early: the server got the request while the wrapper's stderr was
	// still empty, i.e. before the Go runtime started.
	early bool
	req   escalate.Request // as the server decoded it
	raw   []byte           // the request payload
	// After an Escalate answer: what the server got, and the device:inode
	// of the wrapper's descriptors 0, 1, 2 (what SuperExec must carry).
	supers   []superExecSeen
	forwards []string
	stdio    []string
}

// marked describes one run of the wrapper for runMarked.
type marked struct {
	wrapper     string
	argv        []string // FILE ARGV0 ARGV1...
	env         []string // exactly these, plus the socket and GODEBUG variables
	dir         string
	closeStdin  bool // start it with descriptor 0 closed
	closeStdout bool // start it with descriptor 1 closed
	nobody      bool // run it as uid/gid 65534
}

// runMarked runs m.wrapper FILE ARGV... with exactly m.env plus
// CODEX_ESCALATE_SOCKET=3 and GODEBUG=inittrace=1, in m.dir, against a fresh
// server answering with decide. It uses syscall.ForkExec rather than os/exec,
// which would drop empty and duplicate environment entries that a parent
// may well pass.
func runMarked(t *testing.T, m marked, decide func(escalate.Request) reply) markedOutcome {
	t.Helper()
	wrapper, argv, env, dir := m.wrapper, m.argv, m.env, m.dir
	errFile, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer errFile.Close()
	var early atomic.Bool
	s := newServer(t, func(req escalate.Request) reply {
		if st, err := errFile.Stat(); err == nil && st.Size() == 0 {
			early.Store(true)
		}
		return decide(req)
	})
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close()
	fullEnv := append(append([]string(nil), env...), "CODEX_ESCALATE_SOCKET=3", inittrace)
	stdin, stdout := devNull.Fd(), outW.Fd()
	if m.closeStdin {
		stdin = ^uintptr(0) // closed in the child
	}
	if m.closeStdout {
		stdout = ^uintptr(0)
	}
	stdio := fileIDs([]int{int(devNull.Fd()), int(outW.Fd()), int(errFile.Fd())})
	pid, err := syscall.ForkExec(wrapper, append([]string{wrapper}, argv...), &syscall.ProcAttr{
		Dir:   dir,
		Env:   fullEnv,
		Files: []uintptr{stdin, stdout, errFile.Fd(), s.child.Fd()},
		Sys:   sysAttr(m.nobody),
	})
	outW.Close()
	if err != nil {
		t.Fatalf("start %s: %v", wrapper, err)
	}
	out, err := io.ReadAll(outR)
	if err != nil {
		t.Fatal(err)
	}
	var ws syscall.WaitStatus
	for {
		_, err = syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := os.ReadFile(errFile.Name())
	if err != nil {
		t.Fatal(err)
	}
	s.stop()
	if errs := s.errors(); len(errs) > 0 {
		t.Fatalf("server: %v", errs)
	}
	got := markedOutcome{outcome: outcome{stdout: string(out), stderr: string(stderr), status: ws}, early: early.Load(),
		supers: s.superExecs(), forwards: s.forwarded(), stdio: stdio}
	if reqs, raws := s.seen(), s.rawRequests(); len(reqs) == 1 {
		got.req, got.raw = reqs[0], raws[0]
	} else if len(reqs) > 1 {
		t.Fatalf("server got %d requests, want at most 1", len(reqs))
	}
	return got
}

func sysAttr(nobody bool) *syscall.SysProcAttr {
	if !nobody {
		return nil
	}
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
}

// withoutInittrace drops the runtime's init trace lines.
func withoutInittrace(stderr string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(stderr, "\n") {
		if !strings.HasPrefix(line, "init ") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// TestFastPathDifferential: for each input, the early-entry build sends a
// request that decodes to the same Request as the default build's, the
// program sees the same thing, and the fast path is taken exactly for the
// input it can encode verbatim (printable ASCII but '"' and '\', valid UTF-8
// but U+2028 and U+2029, no empty or repeated environment entries, under
// its buffer size).
func TestFastPathDifferential(t *testing.T) {
	requireFastPath(t)
	tmp := t.TempDir()
	quoteDir := filepath.Join(tmp, `dir "with" quotes`)
	spaceDir := filepath.Join(tmp, "dir with spaces")
	utf8Dir := filepath.Join(tmp, "répertoire")
	script := filepath.Join(tmp, "noshebang")
	for _, d := range []string{quoteDir, spaceDir, utf8Dir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(script, []byte("echo from-script \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	echo := func(args ...string) []string { return append([]string{"/bin/echo", "echo"}, args...) }
	env := []string{"/usr/bin/env", "env"}
	base := []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	big := strings.Repeat("x", 100<<10)
	tests := []struct {
		name string
		argv []string
		env  []string
		dir  string
		fast bool // the fast path sends the request
	}{
		{"plain", echo("hello", "world"), append(base, "A=1", "B=two words"), "/", true},
		{"empty argument", echo("", "x", ""), base, "/", true},
		{"ARGV0 only", []string{"/bin/true", "true"}, base, "/", true},
		{"ARGV0 differs from FILE", []string{"/bin/echo", "not-echo", "a"}, base, "/", true},
		{"relative FILE", []string{"./env", "env"}, base, "/usr/bin", true},
		{"printable ASCII edges", echo(" !#~\x7f", "{}[]:,"), append(base, "E= ~\x7f"), "/", true},
		{"value with =", env, append(base, "X=a=b=c", "Y="), "/", true},
		{"empty name", env, append(base, "=value"), "/", true},
		{"entry without =", env, append(base, "NOEQUALS"), "/", true},
		{"workdir with spaces", env, base, spaceDir, true},
		{"near the buffer size", env, append(base, "BIG="+big), "/", true},
		{"quote in argv", echo(`say "hi"`), base, "/", false},
		{"backslash in argv", echo(`a\b`), base, "/", false},
		{"tab in argv", echo("a\tb"), base, "/", false},
		{"control char in FILE's argv", echo("\x01"), base, "/", false},
		{"newline in env value", env, append(base, "NL=a\nb"), "/", false},
		{"quote in env name", env, append(base, `Q"X=1`), "/", false},
		{"UTF-8 in argv", echo("héllo", "€", "😀", "\uFFFD"), base, "/", true},
		{"UTF-8 in env", env, append(base, "NAÏVE=naïve €", "EMOJI=😀"), "/", true},
		{"UTF-8 in workdir", env, base, utf8Dir, true},
		{"UTF-8 range edges", echo("\u0080\u07ff\u0800\ud7ff\ue000\uffff\U00010000\U0010ffff"), base, "/", true},
		{"U+2027 and U+202A", echo("\u2027\u202a"), base, "/", true},
		{"U+2028 in env", env, append(base, "LS=a\u2028b"), "/", false},
		{"U+2029 in argv", echo("a\u2029"), base, "/", false},
		{"invalid UTF-8 in argv", echo("\xff\xfe"), base, "/", false},
		{"invalid UTF-8 in env", env, append(base, "BAD=\xc3"), "/", false},
		{"continuation byte alone", echo("a\x80b"), base, "/", false},
		{"overlong two bytes", echo("\xc0\x80"), base, "/", false},
		{"overlong two bytes, C1", echo("\xc1\xbf"), base, "/", false},
		{"overlong three bytes", echo("\xe0\x80\x80"), base, "/", false},
		{"overlong four bytes", echo("\xf0\x8f\xbf\xbf"), base, "/", false},
		{"surrogate", echo("\xed\xa0\x80"), base, "/", false},
		{"over U+10FFFF", echo("\xf4\x90\x80\x80"), base, "/", false},
		{"lead byte F5", echo("\xf5\x80\x80\x80"), base, "/", false},
		{"truncated at the end", echo("ok\xe2\x82"), base, "/", false},
		{"truncated before ASCII", echo("\xf0\x9f\x98x"), base, "/", false},
		{"bad second continuation", echo("\xe2\x82\x41"), base, "/", false},
		{"bad third continuation", echo("\xf0\x9f\x98\xc0"), base, "/", false},
		{"invalid UTF-8 in env name", env, append(base, "N\xffX=1"), "/", false},
		{"quotes in workdir", env, base, quoteDir, false},
		{"duplicate name", env, append(base, "D=first", "D=second"), "/", false},
		{"duplicate socket variable", env, append(base, "CODEX_ESCALATE_SOCKET=3"), "/", false},
		{"empty entry", env, append(base, ""), "/", false},
		{"over the buffer size", env, append(base, "BIG1="+big, "BIG2="+big), "/", false},
		// A Run answer whose execve fails: the fast path sent the request
		// and Go reports, as after its own execve.
		{"missing FILE", []string{"/nonexistent/prog", "prog"}, base, "/", true},
		{"directory as FILE", []string{"/tmp", "tmp"}, base, "/", true},
		{"script without #!", []string{script, "noshebang", "arg"}, base, "/", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			goPath := runMarked(t, marked{wrapper: defaultWrapperPath, argv: tt.argv, env: tt.env, dir: tt.dir}, runAlways)
			fast := runMarked(t, marked{wrapper: exactWrapperPath, argv: tt.argv, env: tt.env, dir: tt.dir}, runAlways)
			if goPath.early {
				t.Fatalf("default build: the server got the request before the runtime started; the marker is broken (stderr %q)", goPath.stderr)
			}
			if fast.early != tt.fast {
				t.Errorf("early-entry build: request sent before the runtime: %v, want %v (stderr %q)", fast.early, tt.fast, fast.stderr)
			}
			if goPath.raw == nil || fast.raw == nil {
				t.Fatalf("a build sent no request: default %q, early-entry %q", goPath.raw, fast.raw)
			}
			var fromGo, fromFast escalate.Request
			if err := json.Unmarshal(goPath.raw, &fromGo); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(fast.raw, &fromFast); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fromGo, fromFast) {
				t.Errorf("requests differ:\ndefault     %q\nearly-entry %q", goPath.raw, fast.raw)
			}
			if tt.fast && (fromFast.File != tt.argv[0] || !reflect.DeepEqual(fromFast.Argv, tt.argv[1:])) {
				t.Errorf("request file %q argv %q, want %q %q", fromFast.File, fromFast.Argv, tt.argv[0], tt.argv[1:])
			}
			g, f := goPath.outcome, fast.outcome
			g.stderr, f.stderr = withoutInittrace(g.stderr), withoutInittrace(f.stderr)
			if g != f {
				t.Errorf("the program saw different things:\ndefault     %s\nearly-entry %s", g, f)
			}
			if !strings.Contains(goPath.stderr, "init ") {
				t.Errorf("default build printed no init trace: %q", goPath.stderr)
			}
		})
	}
}

// TestFastPathRunSkipsRuntime: a plain Run through the early-entry build
// never starts the Go runtime (no init trace at all) and hands the program
// the environment verbatim, in order.
func TestFastPathRunSkipsRuntime(t *testing.T) {
	requireFastPath(t)
	env := []string{"PATH=/usr/bin:/bin", "Z=last-name-first", "A=1", "NOEQUALS", "M=x=y", "U=é€😀"}
	got := runMarked(t, marked{wrapper: exactWrapperPath, argv: []string{"/usr/bin/env", "env"}, env: env, dir: "/"}, runAlways)
	if got.stderr != "" || !got.early || got.status.ExitStatus() != 0 {
		t.Fatalf("got %s early=%v, want a silent Run from the fast path", got.outcome, got.early)
	}
	want := strings.Join(append(env, "CODEX_ESCALATE_SOCKET=3", inittrace), "\n") + "\n"
	if got.stdout != want {
		t.Errorf("the program's environment:\n got %q\nwant %q", got.stdout, want)
	}
	// The payload is AppendRequest's shape with the environment in envp
	// order, and the frame on the wire was exactly header + payload (the
	// server's ReadFrame parsed it).
	wantPayload := `{"file":"/usr/bin/env","argv":["env"],"workdir":"/","env":{"PATH":"/usr/bin:/bin","Z":"last-name-first","A":"1","M":"x=y","U":"é€😀","CODEX_ESCALATE_SOCKET":"3","GODEBUG":"inittrace=1"}}`
	if string(got.raw) != wantPayload {
		t.Errorf("payload\n got %s\nwant %s", got.raw, wantPayload)
	}
}

// TestFastPathExactState: the program started through the fast path gets the
// inherited signal dispositions, signal mask and RLIMIT_NOFILE soft limit
// exactly as from a direct exec, and the runtime never started (its init
// trace would show on stderr, which must match the direct run's).
func TestFastPathExactState(t *testing.T) {
	requireFastPath(t)
	show := []string{"/bin/grep", "grep", "-E", "^(Sig(Ign|Blk)|Max open files)", "/proc/self/status", "/proc/self/limits"}
	tests := []struct{ name, signals string }{
		{"nothing", ""},
		{"ignored QUIT TERM PIPE USR1 CHLD", "ignore=3,10,13,15,17"},
		{"blocked HUP INT TERM URG, real-time", "block=1,2,15,23,40,64"},
		{"mix", "ignore=1,2,3,13,15,20,35;block=2,10,15,17,23,40"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, runAlways)
			p := proc{argv: show, signals: tt.signals, wrapper: exactWrapperPath, env: []string{inittrace}}
			direct := p.run(t, s, false)
			wrapped := p.run(t, s, true)
			// The signal helper is a Go program too: its own init trace
			// shows in both runs, with different timings.
			if wrapped.stdout != direct.stdout || wrapped.status != direct.status || !strings.Contains(direct.stdout, "Max open files") {
				t.Errorf("through the fast path:\n got %s\nwant %s", wrapped, direct)
			}
			if w, d := strings.Count(wrapped.stderr, "init "), strings.Count(direct.stderr, "init "); w != d || withoutInittrace(wrapped.stderr) != "" {
				t.Errorf("wrapped stderr %q has %d init trace lines, the direct run's %d: the Go runtime started", wrapped.stderr, w, d)
			}
			if n := len(s.seen()); n != 1 {
				t.Errorf("server saw %d requests, want 1", n)
			}
		})
	}
}

// TestFastPathHandover: after the fast path sent the request, every answer
// but the exact Run and Escalate frames is handled by the Go code as before
// (Escalate: see fastpath_escalate_linux_test.go).
func TestFastPathHandover(t *testing.T) {
	requireFastPath(t)
	runFrame := func(payload string) []byte {
		b := binary.LittleEndian.AppendUint32(nil, uint32(len(payload)))
		return append(b, payload...)
	}
	sh := []string{"/bin/sh", "sh", "-c", "echo ran; exit 4"}
	tests := []struct {
		name       string
		answer     reply
		wantStatus int
		wantStdout string
		wantStderr string // substring of stderr without the init trace
	}{
		{"Deny", reply{resp: escalate.Response{Action: escalate.Deny, Reason: "not here"}}, 1, "", "Execution denied: not here\n"},
		{"Run with a space", reply{raw: runFrame(`{"action":"Run" }`)}, 4, "ran\n", ""},
		{"Run, leading space", reply{raw: runFrame(` {"action":"Run"}`)}, 4, "ran\n", ""},
		{"16-byte Run, other case", reply{raw: runFrame(`{"ACTION":"Run"}`)}, 4, "ran\n", ""},
		{"16-byte unknown action", reply{raw: runFrame(`{"action":"Den"}`)}, 126, "", `unknown action "Den"`},
		{"closed without answer", reply{raw: []byte{}}, 126, "", "connection closed by peer"},
		{"half a header", reply{raw: []byte{0x10, 0}}, 126, "", "execgate-execve-wrapper: "},
		{"Run frame cut short", reply{raw: runFrame(`{"action":"Run"}`)[:12]}, 126, "", "closed inside a 16-byte frame"},
		{"Run frame with descriptors", reply{resp: escalate.Response{Action: escalate.Run}, fds: []int{0}}, 126, "", "server sent 1 file descriptors"},
		{"unknown action", reply{raw: runFrame(`{"action":"Explode"}`)}, 126, "", "execgate-execve-wrapper: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runMarked(t, marked{wrapper: exactWrapperPath, argv: sh, env: []string{"PATH=/usr/bin:/bin"}, dir: "/"}, func(escalate.Request) reply { return tt.answer })
			if !got.early {
				t.Errorf("the request did not come from the fast path (stderr %q)", got.stderr)
			}
			stderr := withoutInittrace(got.stderr)
			if got.status.ExitStatus() != tt.wantStatus || got.stdout != tt.wantStdout || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("got %s, want exit %d, stdout %q, stderr containing %q", got.outcome, tt.wantStatus, tt.wantStdout, tt.wantStderr)
			}
			if tt.wantStatus == 126 && strings.Count(stderr, "\n") != 1 {
				t.Errorf("fail-closed stderr %q, want one line", stderr)
			}
			if got.stderr == stderr {
				t.Errorf("no init trace: the Go runtime did not take over (stderr %q)", got.stderr)
			}
		})
	}
}

// TestFastPathDeadServer: a handshake the server cannot receive fails closed
// with the errno of the fast path's own attempt.
func TestFastPathDeadServer(t *testing.T) {
	requireFastPath(t)
	for _, wrapper := range []string{defaultWrapperPath, exactWrapperPath} {
		s := newServer(t, runAlways)
		s.kill()
		got := proc{argv: []string{"/bin/true", "true"}, wrapper: wrapper}.run(t, s, true)
		want := "execgate-execve-wrapper: cannot reach the execgate server: escalate: handshake on fd " + strconv.Itoa(3) + ": connection refused\n"
		if got.status.ExitStatus() != 126 || got.stderr != want {
			t.Errorf("%s: got %s, want exit 126 and stderr %q", wrapper, got, want)
		}
	}
}

// TestFastPathSplitRunFrame: a Run frame that arrives in two parts (header,
// pause, payload) still runs the program: the fast path's peek normally sees
// only the header and leaves the frame unread to Go (under heavy load it may
// see it whole and run it itself; either is right).
func TestFastPathSplitRunFrame(t *testing.T) {
	requireFastPath(t)
	frame := binary.LittleEndian.AppendUint32(nil, 16)
	frame = append(frame, `{"action":"Run"}`...)
	got := runMarked(t, marked{wrapper: exactWrapperPath, argv: []string{"/bin/echo", "echo", "ran"}, env: []string{"PATH=/usr/bin:/bin"}, dir: "/"},
		func(escalate.Request) reply { return reply{raw: frame, rawPause: 50 * time.Millisecond} })
	if got.stdout != "ran\n" || withoutInittrace(got.stderr) != "" || got.status.ExitStatus() != 0 || !got.early {
		t.Errorf("got %s early=%v, want the program run, the request from the fast path", got.outcome, got.early)
	}
}

// TestFastPathClosedStdin: with descriptor 0 closed the stream would become
// descriptor 0, which Go code after a handover would take for stdin; the
// fast path leaves such a start to Go entirely (its runtime then opens
// /dev/null there: the limit doc.go describes), on both builds alike.
func TestFastPathClosedStdin(t *testing.T) {
	requireFastPath(t)
	argv := []string{"/bin/sh", "sh", "-c", "read -r line; echo status $?"}
	var outs []outcome
	for _, w := range []string{defaultWrapperPath, exactWrapperPath} {
		got := runMarked(t, marked{wrapper: w, argv: argv, env: []string{"PATH=/usr/bin:/bin"}, dir: "/", closeStdin: true}, runAlways)
		if got.early || got.req.File != "/bin/sh" {
			t.Errorf("%s: early=%v request %+v, want the Go path to send it", w, got.early, got.req)
		}
		got.stderr = withoutInittrace(got.stderr)
		outs = append(outs, got.outcome)
	}
	if outs[0] != outs[1] || outs[0].stdout != "status 1\n" {
		t.Errorf("default build %s, early-entry build %s, want both to read EOF from /dev/null", outs[0], outs[1])
	}
}

// TestFastPathUnprivileged: as uid 65534 (as the sandboxed shell runs), the
// fast path answers Run just the same, and a FILE it cannot exec is
// reported by Go as after its own execve.
func TestFastPathUnprivileged(t *testing.T) {
	requireFastPath(t)
	if os.Getuid() != 0 {
		t.Skip("needs root to switch to uid 65534")
	}
	tests := []struct {
		name       string
		argv       []string
		wantStatus int
		wantStdout string
		wantStderr string
	}{
		{"run", []string{"/usr/bin/id", "id", "-u"}, 0, "65534\n", ""},
		{"directory", []string{"/root", "root"}, 126, "", "/root: Is a directory\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runMarked(t, marked{wrapper: exactWrapperPath, argv: tt.argv, env: []string{"PATH=/usr/bin:/bin"}, dir: "/", nobody: true}, runAlways)
			if !got.early || got.status.ExitStatus() != tt.wantStatus || got.stdout != tt.wantStdout || withoutInittrace(got.stderr) != tt.wantStderr {
				t.Errorf("got %s early=%v, want exit %d stdout %q stderr %q from the fast path", got.outcome, got.early, tt.wantStatus, tt.wantStdout, tt.wantStderr)
			}
			if tt.wantStatus == 0 && got.stderr != "" {
				t.Errorf("stderr %q: the Go runtime started", got.stderr)
			}
		})
	}
}
