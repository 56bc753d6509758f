package wrapper_test

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/execgate/execgate/escalate"
)

// Tests of the wrapper's side of the protocol on inputs and answers a
// scripted server chooses: the request it sends for every kind of argv,
// environment and working directory, and what it does with each answer.

// markedOutcome is what runMarked saw.
type markedOutcome struct {
	outcome
	req escalate.Request // as the server decoded it
	raw []byte           // the request payload
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
	env         []string // exactly these, plus the socket variable
	dir         string
	closeStdin  bool // start it with descriptor 0 closed
	closeStdout bool // start it with descriptor 1 closed
	nobody      bool // run it as uid/gid 65534
}

// runMarked runs m.wrapper FILE ARGV... with exactly m.env plus
// CODEX_ESCALATE_SOCKET=3, in m.dir, against a fresh
// server answering with decide. It uses syscall.ForkExec rather than os/exec,
// which would drop empty and duplicate environment entries that a parent
// may well pass.
func runMarked(t *testing.T, m marked, decide func(escalate.Request) reply) markedOutcome {
	t.Helper()
	wrapper, argv, env, dir := m.wrapper, m.argv, m.env, m.dir
	devNull, outR, outW, errFile := childStdio(t)
	s := newServer(t, decide)
	fullEnv := append(append([]string(nil), env...), "CODEX_ESCALATE_SOCKET=3")
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
	o := collectOutcome(t, pid, outR, errFile)
	s.stop()
	if errs := s.errors(); len(errs) > 0 {
		t.Fatalf("server: %v", errs)
	}
	got := markedOutcome{outcome: o,
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

// TestRequestEncoding: for every kind of input the wrapper sends one request
// that decodes to FILE, ARGV and the physical working directory, and the
// program it then execs sees what a direct exec of it sees.
func TestRequestEncoding(t *testing.T) {
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
		// lossless: the request carries FILE and ARGV verbatim (valid
		// UTF-8); otherwise JSON replaced the bad bytes.
		lossless bool
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
		{"quote in argv", echo(`say "hi"`), base, "/", true},
		{"backslash in argv", echo(`a\b`), base, "/", true},
		{"tab in argv", echo("a\tb"), base, "/", true},
		{"control char in FILE's argv", echo("\x01"), base, "/", true},
		{"newline in env value", env, append(base, "NL=a\nb"), "/", true},
		{"quote in env name", env, append(base, `Q"X=1`), "/", true},
		{"UTF-8 in argv", echo("héllo", "€", "😀", "\uFFFD"), base, "/", true},
		{"UTF-8 in env", env, append(base, "NAÏVE=naïve €", "EMOJI=😀"), "/", true},
		{"UTF-8 in workdir", env, base, utf8Dir, true},
		{"UTF-8 range edges", echo("\u0080\u07ff\u0800\ud7ff\ue000\uffff\U00010000\U0010ffff"), base, "/", true},
		{"U+2027 and U+202A", echo("\u2027\u202a"), base, "/", true},
		{"U+2028 in env", env, append(base, "LS=a\u2028b"), "/", true},
		{"U+2029 in argv", echo("a\u2029"), base, "/", true},
		{"invalid UTF-8 in argv", echo("\xff\xfe"), base, "/", false},
		{"invalid UTF-8 in env", env, append(base, "BAD=\xc3"), "/", true},
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
		{"invalid UTF-8 in env name", env, append(base, "N\xffX=1"), "/", true},
		{"quotes in workdir", env, base, quoteDir, true},
		{"duplicate name", env, append(base, "D=first", "D=second"), "/", true},
		{"duplicate socket variable", env, append(base, "CODEX_ESCALATE_SOCKET=3"), "/", true},
		{"empty entry", env, append(base, ""), "/", true},
		{"over the buffer size", env, append(base, "BIG1="+big, "BIG2="+big), "/", true},
		// A Run answer whose execve fails: the wrapper reports as Bash
		// would (TestExecErrorsLikeBash has the messages).
		{"missing FILE", []string{"/nonexistent/prog", "prog"}, base, "/", true},
		{"directory as FILE", []string{"/tmp", "tmp"}, base, "/", true},
		{"script without #!", []string{script, "noshebang", "arg"}, base, "/", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runMarked(t, marked{wrapper: wrapperPath, argv: tt.argv, env: tt.env, dir: tt.dir}, runAlways)
			if got.raw == nil {
				t.Fatalf("the wrapper sent no request: %s", got.outcome)
			}
			var req escalate.Request
			if err := json.Unmarshal(got.raw, &req); err != nil {
				t.Fatalf("request %q: %v", got.raw, err)
			}
			wantDir, err := filepath.EvalSymlinks(tt.dir)
			if err != nil {
				t.Fatal(err)
			}
			if req.Workdir != wantDir || req.Env["CODEX_ESCALATE_SOCKET"] != "3" {
				t.Errorf("request workdir %q env %q, want %q and the socket variable", req.Workdir, req.Env, wantDir)
			}
			if tt.lossless && (req.File != tt.argv[0] || !reflect.DeepEqual(req.Argv, tt.argv[1:])) {
				t.Errorf("request file %q argv %q, want %q %q", req.File, req.Argv, tt.argv[0], tt.argv[1:])
			}
			if want, ok := directOutcome(t, tt.argv, tt.env, tt.dir); ok && got.outcome != want {
				t.Errorf("the program saw different things:\nthrough the wrapper %s\ndirect              %s", got.outcome, want)
			} else if !ok && got.status.ExitStatus() != 0 && got.status.ExitStatus() != 126 && got.status.ExitStatus() != 127 {
				t.Errorf("got %s", got.outcome)
			}
		})
	}
}

// directOutcome runs FILE ARGV... as runMarked does but without the wrapper,
// with the environment the wrapper passes on: env as the Go runtime reads
// it, without empty entries and with only the first of entries that repeat
// a name (Bash never passes either). ok is false when the exec itself fails
// (the wrapper's report of that is TestExecErrorsLikeBash's).
func directOutcome(t *testing.T, argv, env []string, dir string) (outcome, bool) {
	t.Helper()
	seen := map[string]bool{}
	var goEnv []string
	for _, kv := range append(append([]string(nil), env...), "CODEX_ESCALATE_SOCKET=3") {
		name, _, _ := strings.Cut(kv, "=")
		if kv == "" || seen[name] {
			continue
		}
		seen[name] = true
		goEnv = append(goEnv, kv)
	}
	devNull, outR, outW, errFile := childStdio(t)
	file := argv[0]
	if !strings.Contains(file, "/") {
		file = filepath.Join(dir, file)
	}
	pid, err := syscall.ForkExec(file, argv[1:], &syscall.ProcAttr{
		Dir:   dir,
		Env:   goEnv,
		Files: []uintptr{devNull.Fd(), outW.Fd(), errFile.Fd()},
	})
	outW.Close()
	if err != nil {
		return outcome{}, false
	}
	return collectOutcome(t, pid, outR, errFile), true
}

// childStdio is a child's stdio for the tests that start one: /dev/null
// as stdin, a pipe for stdout (read outR; the caller closes outW once the
// child has it) and a file for stderr, closed when the test ends.
func childStdio(t *testing.T) (devNull, outR, outW, errFile *os.File) {
	t.Helper()
	errFile, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { errFile.Close() })
	devNull, err = os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { devNull.Close() })
	outR, outW, err = os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { outR.Close(); outW.Close() })
	return devNull, outR, outW, errFile
}

// TestRequestPayload: the payload is AppendRequest's shape (its fields in
// that order; the environment is a JSON object, in no order), and the
// program gets the environment verbatim, in envp order.
func TestRequestPayload(t *testing.T) {
	env := []string{"PATH=/usr/bin:/bin", "Z=last-name-first", "A=1", "NOEQUALS", "M=x=y", "U=é€😀"}
	got := runMarked(t, marked{wrapper: wrapperPath, argv: []string{"/usr/bin/env", "env"}, env: env, dir: "/"}, runAlways)
	if got.stderr != "" || got.status.ExitStatus() != 0 {
		t.Fatalf("got %s, want a silent Run", got.outcome)
	}
	want := strings.Join(append(env, "CODEX_ESCALATE_SOCKET=3"), "\n") + "\n"
	if got.stdout != want {
		t.Errorf("the program's environment:\n got %q\nwant %q", got.stdout, want)
	}
	const wantHead = `{"file":"/usr/bin/env","argv":["env"],"workdir":"/","env":{`
	var decoded struct{ Env map[string]string }
	if err := json.Unmarshal(got.raw, &decoded); err != nil || !strings.HasPrefix(string(got.raw), wantHead) {
		t.Fatalf("payload %s (%v), want it to start %s", got.raw, err, wantHead)
	}
	wantEnv := map[string]string{"PATH": "/usr/bin:/bin", "Z": "last-name-first", "A": "1", "M": "x=y", "U": "é€😀", "CODEX_ESCALATE_SOCKET": "3"}
	if !reflect.DeepEqual(decoded.Env, wantEnv) {
		t.Errorf("payload env %q, want %q (an entry without = is not a variable)", decoded.Env, wantEnv)
	}
}

// TestAnswers: every answer but a well-formed Run, Escalate or Deny fails
// closed with one line and status 126, and well-formed ones in any JSON
// spelling are obeyed.
func TestAnswers(t *testing.T) {
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
		wantStderr string // substring of stderr
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
			got := runMarked(t, marked{wrapper: wrapperPath, argv: sh, env: []string{"PATH=/usr/bin:/bin"}, dir: "/"}, func(escalate.Request) reply { return tt.answer })
			if got.status.ExitStatus() != tt.wantStatus || got.stdout != tt.wantStdout || !strings.Contains(got.stderr, tt.wantStderr) {
				t.Errorf("got %s, want exit %d, stdout %q, stderr containing %q", got.outcome, tt.wantStatus, tt.wantStdout, tt.wantStderr)
			}
			if tt.wantStatus == 126 && strings.Count(got.stderr, "\n") != 1 {
				t.Errorf("fail-closed stderr %q, want one line", got.stderr)
			}
		})
	}
}

// TestDeadServer: a handshake the server cannot receive fails closed with
// the errno.
func TestDeadServer(t *testing.T) {
	s := newServer(t, runAlways)
	s.kill()
	got := proc{argv: []string{"/bin/true", "true"}, wrapper: wrapperPath}.run(t, s, true)
	want := "execgate-execve-wrapper: cannot reach the execgate server: escalate: handshake on fd " + strconv.Itoa(3) + ": connection refused\n"
	if got.status.ExitStatus() != 126 || got.stderr != want {
		t.Errorf("got %s, want exit 126 and stderr %q", got, want)
	}
}

// TestSplitRunFrame: a Run frame that arrives in two parts (header, pause,
// payload) still runs the program.
func TestSplitRunFrame(t *testing.T) {
	frame := binary.LittleEndian.AppendUint32(nil, 16)
	frame = append(frame, `{"action":"Run"}`...)
	got := runMarked(t, marked{wrapper: wrapperPath, argv: []string{"/bin/echo", "echo", "ran"}, env: []string{"PATH=/usr/bin:/bin"}, dir: "/"},
		func(escalate.Request) reply { return reply{raw: frame, rawPause: 50 * time.Millisecond} })
	if got.stdout != "ran\n" || got.stderr != "" || got.status.ExitStatus() != 0 {
		t.Errorf("got %s, want the program run", got.outcome)
	}
}

// TestClosedStdin: with descriptor 0 closed at start, the Go runtime opens
// /dev/null there (the limit doc.go describes): the request still goes out
// on its own stream and the program reads end of file.
func TestClosedStdin(t *testing.T) {
	argv := []string{"/bin/sh", "sh", "-c", "read -r line; echo status $?"}
	got := runMarked(t, marked{wrapper: wrapperPath, argv: argv, env: []string{"PATH=/usr/bin:/bin"}, dir: "/", closeStdin: true}, runAlways)
	if got.req.File != "/bin/sh" || got.stdout != "status 1\n" {
		t.Errorf("got %s, request %+v, want the request sent and EOF read from /dev/null", got.outcome, got.req)
	}
}

// TestUnprivileged: as uid 65534 (as the sandboxed shell runs), Run works
// just the same, and a FILE it cannot exec is reported as Bash would.
func TestUnprivileged(t *testing.T) {
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
			got := runMarked(t, marked{wrapper: wrapperPath, argv: tt.argv, env: []string{"PATH=/usr/bin:/bin"}, dir: "/", nobody: true}, runAlways)
			if got.status.ExitStatus() != tt.wantStatus || got.stdout != tt.wantStdout || got.stderr != tt.wantStderr {
				t.Errorf("got %s, want exit %d stdout %q stderr %q", got.outcome, tt.wantStatus, tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

// collectOutcome reads the started wrapper's stdout to EOF, reaps it and
// reads the stderr it wrote to errFile.
func collectOutcome(t *testing.T, pid int, outR io.Reader, errFile *os.File) outcome {
	t.Helper()
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
	return outcome{stdout: string(out), stderr: string(stderr), status: ws}
}
