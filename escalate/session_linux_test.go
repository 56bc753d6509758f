package escalate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestSessionAnswers(t *testing.T) {
	var mu sync.Mutex
	var seen []Exec
	d := DeciderFunc(func(_ context.Context, e Exec) Decision {
		mu.Lock()
		seen = append(seen, e)
		mu.Unlock()
		switch e.Argv[len(e.Argv)-1] {
		case "run":
			return Decision{Action: Run}
		case "escalate":
			return Decision{Action: Escalate}
		case "deny-null":
			return Decision{Action: Deny}
		}
		return Decision{Action: Deny, Reason: "no \"" + e.Argv[len(e.Argv)-1] + "\" here"}
	})
	var records []Record
	ts := startSession(t, d, Options{OnDecision: func(r Record) {
		mu.Lock()
		records = append(records, r)
		mu.Unlock()
	}})
	tests := []struct {
		name     string
		req      Request
		want     Response
		wantFile string // what the Decider saw; "" if it must not be asked
	}{
		{"run", Request{File: "/bin/true", Argv: []string{"true", "run"}, Workdir: "/"}, Response{Action: Run}, "/bin/true"},
		{"deny with reason", Request{File: "/usr/bin/git", Argv: []string{"git", "push"}, Workdir: "/"},
			Response{Action: Deny, Reason: `no "push" here`}, "/usr/bin/git"},
		{"deny without reason", Request{File: "/bin/x", Argv: []string{"x", "deny-null"}, Workdir: "/"}, Response{Action: Deny}, "/bin/x"},
		{"relative file", Request{File: "bin/true", Argv: []string{"true", "run"}, Workdir: "/usr"}, Response{Action: Run}, "/usr/bin/true"},
		{"dot-dot file", Request{File: "../bin/true", Argv: []string{"true", "run"}, Workdir: "/usr/lib"}, Response{Action: Run}, "/usr/bin/true"},
		{"uncleaned absolute file", Request{File: "/usr//bin/./true", Argv: []string{"true", "run"}, Workdir: "/"}, Response{Action: Run}, "/usr/bin/true"},
		{"relative workdir", Request{File: "/bin/true", Argv: []string{"true", "run"}, Workdir: "tmp"},
			Response{Action: Deny, Reason: `invalid request: workdir "tmp" is not absolute`}, ""},
		{"empty argv", Request{File: "/bin/true", Argv: []string{}, Workdir: "/"},
			Response{Action: Deny, Reason: "invalid request: empty argv"}, ""},
		{"empty file", Request{File: "", Argv: []string{"x"}, Workdir: "/"},
			Response{Action: Deny, Reason: "invalid request: empty file"}, ""},
		{"NUL in argv", Request{File: "/bin/true", Argv: []string{"true", "a\x00b"}, Workdir: "/"},
			Response{Action: Deny, Reason: "invalid request: NUL byte in file, argv or workdir"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			seen, records = nil, nil
			mu.Unlock()
			if got := ts.decide(t, tc.req); got != tc.want {
				t.Fatalf("answer = %+v, want %+v", got, tc.want)
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.wantFile == "" {
				if len(seen) != 0 {
					t.Errorf("Decider asked about an invalid request: %+v", seen)
				}
			} else if len(seen) != 1 || seen[0].File != tc.wantFile || !slices.Equal(seen[0].Argv, tc.req.Argv) || seen[0].Workdir != tc.req.Workdir {
				t.Errorf("Decider saw %+v, want file %q argv %q workdir %q", seen, tc.wantFile, tc.req.Argv, tc.req.Workdir)
			}
			if len(records) != 1 || records[0].Decision.Action != tc.want.Action || records[0].Decision.Reason != tc.want.Reason {
				t.Errorf("OnDecision got %+v, want one record of %+v", records, tc.want)
			}
		})
	}
}

// TestSessionOverrideKeepsRule: an Escalate the session cannot carry out
// (here: no such program) is sent as a Deny, and the record of it keeps the
// rule that had decided, so the audit says which rule allowed what was then
// refused.
func TestSessionOverrideKeepsRule(t *testing.T) {
	d := DeciderFunc(func(context.Context, Exec) Decision {
		return Decision{Action: Escalate, Rule: "t.rules:1:12", Reason: "allowed by rule"}
	})
	recs := make(chan Record, 1)
	ts := startSession(t, d, Options{OnDecision: func(r Record) { recs <- r }})
	got := ts.decide(t, Request{File: "/nonexistent/prog", Argv: []string{"prog"}, Workdir: "/"})
	rec := <-recs
	if got.Action != Deny || got.Reason == "" {
		t.Fatalf("answer %+v, want a Deny saying why", got)
	}
	if rec.Decision.Action != Deny || rec.Decision.Reason != got.Reason || rec.Decision.Rule != "t.rules:1:12" || rec.Program != "" {
		t.Errorf("record %+v, want the Deny sent with the rule that had decided", rec)
	}
}

func TestEscalateStdio(t *testing.T) {
	ts := startSession(t, fixed(Escalate, ""), Options{})
	r := ts.escalate(t, shReq(`read x; echo "got $x"; echo oops >&2; exit 3`, nil), "hello\n")
	res, out, errOut := r.wait()
	if res != (SuperExecResult{ExitCode: 3}) || out != "got hello\n" || errOut != "oops\n" {
		t.Fatalf("result %+v, stdout %q, stderr %q; want exit 3, \"got hello\\n\", \"oops\\n\"", res, out, errOut)
	}
}

func TestEscalateExitStatus(t *testing.T) {
	ts := startSession(t, fixed(Escalate, ""), Options{})
	tests := []struct {
		script string
		want   SuperExecResult
	}{
		{"exit 0", SuperExecResult{ExitCode: 0}},
		{"exit 1", SuperExecResult{ExitCode: 1}},
		{"exit 255", SuperExecResult{ExitCode: 255}},
		{"kill -TERM $$", SuperExecResult{ExitCode: 143, Signal: 15}},
		{"kill -KILL $$", SuperExecResult{ExitCode: 137, Signal: 9}},
		{"kill -SEGV $$", SuperExecResult{ExitCode: 139, Signal: 11}},
	}
	for _, tc := range tests {
		t.Run(tc.script, func(t *testing.T) {
			res, _, _ := ts.escalate(t, shReq(tc.script, nil), "").wait()
			if res != tc.want {
				t.Fatalf("result %+v, want %+v", res, tc.want)
			}
		})
	}
}

func TestEscalateStartFailure(t *testing.T) {
	ts := startSession(t, fixed(Escalate, ""), Options{})
	dir := t.TempDir()
	plain := filepath.Join(dir, "not-executable")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noInterpreter := filepath.Join(dir, "no-interpreter")
	if err := os.WriteFile(noInterpreter, []byte("#!/nonexistent/interpreter\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file     string
		wantCode int
		wantErr  string
	}{
		{noInterpreter, 127, "execgate: " + noInterpreter + ": no such file or directory"},
		{plain, 126, "execgate: " + plain + ": permission denied"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			r := ts.escalate(t, Request{File: tc.file, Argv: []string{"x"}, Workdir: "/"}, "")
			res, out, errOut := r.wait()
			if res.ExitCode != tc.wantCode || out != "" || !strings.Contains(errOut, tc.wantErr) {
				t.Fatalf("result %+v, stdout %q, stderr %q; want %d and %q", res, out, errOut, tc.wantCode, tc.wantErr)
			}
		})
	}
	// A program that does not exist cannot be escalated: denied, saying so.
	missing := "/nonexistent/program"
	if got := ts.decide(t, Request{File: missing, Argv: []string{"x"}, Workdir: "/"}); got.Action != Deny || got.Reason != missing+": no such file or directory" {
		t.Errorf("missing program: %+v", got)
	}
}

// sigintIgnored reports whether this process inherited SIGINT ignored (as
// background jobs of a non-interactive shell do): children then ignore it
// too, whoever delivers it.
func sigintIgnored(t *testing.T) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			var mask uint64
			fmt.Sscanf(strings.TrimSpace(v), "%x", &mask)
			return mask&(1<<(unix.SIGINT-1)) != 0
		}
	}
	return false
}

func TestEscalateForwardSignal(t *testing.T) {
	if sigintIgnored(t) {
		t.Skip("SIGINT is ignored by this process and so by its children")
	}
	ts := startSession(t, fixed(Escalate, ""), Options{})
	r := ts.escalate(t, Request{File: "/bin/sleep", Argv: []string{"sleep", "1000"}, Workdir: "/"}, "")
	time.Sleep(50 * time.Millisecond)
	r.forward(unix.SIGKILL) // not forwardable: refused and logged
	ts.logs.waitFor(t, "refused to forward signal")
	r.forward(unix.SIGINT)
	res, _, _ := r.wait()
	if res != (SuperExecResult{ExitCode: 130, Signal: 2}) {
		t.Fatalf("result %+v, want 130/2", res)
	}
}

// TestEscalateEnvFromServer: an escalated command gets the session's base
// environment plus only what the policy passes from the request's; PATH,
// HOME, loaders and the escalate wiring come from the base or not at all.
func TestEscalateEnvFromServer(t *testing.T) {
	pol, err := NewEnvPolicy([]string{"PATH=/usr/bin:/bin", "HOME=/home/server", "SERVER_ONLY=1"}, []string{"KEEP"})
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan []string, 1)
	ts := startSession(t, fixed(Escalate, ""), Options{Env: pol, OnDecision: func(r Record) { seen <- r.Exec.Env }})
	env := map[string]string{
		"PATH": "/tmp/evil:/usr/bin", "HOME": "/home/agent", "KEEP": "kept", "OTHER": "dropped", "TZ": "UTC",
		"LD_PRELOAD": "/tmp/evil.so", "BASH_ENV": "/tmp/rc", "BASH_FUNC_ls%%": "() { :; }", "CURL_HOME": "/tmp",
		"GIT_CONFIG_COUNT": "1", "PYTHONPATH": "/tmp", EnvSocket: "3", EnvWrapper: "/w", EnvLegacyWrapper: "/w",
	}
	res, out, _ := ts.escalate(t, Request{File: "/usr/bin/env", Argv: []string{"env"}, Workdir: "/", Env: env}, "").wait()
	got := strings.Split(strings.TrimSpace(out), "\n")
	slices.Sort(got)
	want := []string{"HOME=/home/server", "KEEP=kept", "PATH=/usr/bin:/bin", "SERVER_ONLY=1", "TZ=UTC"}
	if res.ExitCode != 0 || !slices.Equal(got, want) {
		t.Fatalf("env printed %q (exit %d), want %q", got, res.ExitCode, want)
	}
	if got, want := <-seen, []string{"KEEP=kept", "TZ=UTC"}; !slices.Equal(got, want) {
		t.Errorf("the decider saw Env %q, want %q", got, want)
	}
}

// TestEscalateDecisionEnv: what the Decider sets in Decision.Env reaches
// the escalated program over the server's environment and over anything
// the request's passes (here KEEP, allowed from the shell).
func TestEscalateDecisionEnv(t *testing.T) {
	pol, err := NewEnvPolicy([]string{"PATH=/usr/bin:/bin", "GIT_DIR=/server"}, []string{"KEEP", "GIT_*"})
	if err != nil {
		t.Fatal(err)
	}
	d := DeciderFunc(func(context.Context, Exec) Decision {
		return Decision{Action: Escalate, Env: []string{"GIT_DIR=/pinned", "KEEP=decider", "NEW=a=b"}}
	})
	ts := startSession(t, d, Options{Env: pol})
	env := map[string]string{"KEEP": "shell", "GIT_DIR": "/shell", "GIT_WORK_TREE": "/shell"}
	res, out, _ := ts.escalate(t, Request{File: "/usr/bin/env", Argv: []string{"env"}, Workdir: "/", Env: env}, "").wait()
	got := strings.Split(strings.TrimSpace(out), "\n")
	slices.Sort(got)
	want := []string{"GIT_DIR=/pinned", "GIT_WORK_TREE=/shell", "KEEP=decider", "NEW=a=b", "PATH=/usr/bin:/bin"}
	if res.ExitCode != 0 || !slices.Equal(got, want) {
		t.Fatalf("env printed %q (exit %d), want %q", got, res.ExitCode, want)
	}
}

// TestEscalateArgv0: an escalated program never gets the request's argv[0]
// (multi-call programs dispatch on it): it gets the Decider's Argv0, by
// default the base name of the requested path, which is what rules match.
// The record says what ran.
func TestEscalateArgv0(t *testing.T) {
	script := `tr '\0' '|' </proc/$$/cmdline`
	for _, tc := range []struct{ argv0, want string }{{"", "sh"}, {"/bin/sh", "/bin/sh"}} {
		var rec Record
		var mu sync.Mutex
		d := DeciderFunc(func(context.Context, Exec) Decision { return Decision{Action: Escalate, Argv0: tc.argv0} })
		ts := startSession(t, d, Options{OnDecision: func(r Record) { mu.Lock(); rec = r; mu.Unlock() }})
		res, out, _ := ts.escalate(t, Request{File: "/bin/sh", Argv: []string{"git-archive", "-c", script, "a b"}, Workdir: "/"}, "").wait()
		if want := tc.want + "|-c|" + script + "|a b|"; res.ExitCode != 0 || out != want {
			t.Errorf("Argv0 %q: stdout %q exit %d, want %q", tc.argv0, out, res.ExitCode, want)
		}
		mu.Lock()
		real, _ := filepath.EvalSymlinks("/bin/sh")
		if rec.Program != real || len(rec.Argv) == 0 || rec.Argv[0] != tc.want || rec.Exec.Argv[0] != "git-archive" {
			t.Errorf("record: program %q argv %q (requested %q), want %s and argv[0] %q", rec.Program, rec.Argv, rec.Exec.Argv, real, tc.want)
		}
		mu.Unlock()
	}
}

// fdListing is an escalated command that prints the fds it holds: the shell
// execs ls, so ls holds exactly what the shell was given (plus the directory
// it lists, which points back into /proc).
const fdListing = `read x; echo "out:$x"; echo "err:$x" >&2; exec /bin/ls -l /proc/self/fd/`

// checkStdioOnly verifies an ls -l /proc/self/fd listing: fds 0, 1, 2 are
// the pipes with the given inodes, and no other fd is open except ls's own
// directory handle.
func checkStdioOnly(t *testing.T, listing string, inodes [3]uint64) {
	t.Helper()
	got := fdLinks(listing)
	for i, ino := range inodes {
		if want := fmt.Sprintf("pipe:[%d]", ino); got[fmt.Sprint(i)] != want {
			t.Errorf("fd %d is %q, want %q; listing:\n%s", i, got[fmt.Sprint(i)], want, listing)
		}
		delete(got, fmt.Sprint(i))
	}
	for fd, target := range got {
		if !strings.HasPrefix(target, "/proc/") || !strings.HasSuffix(target, "/fd") {
			t.Errorf("escalated command inherited fd %s -> %s; listing:\n%s", fd, target, listing)
		}
	}
	if len(got) > 1 {
		t.Errorf("more than one extra fd: %v", got)
	}
}

// fdLinks maps each fd of an ls -l /proc/PID/fd listing to its target.
func fdLinks(listing string) map[string]string {
	links := map[string]string{}
	for _, line := range strings.Split(listing, "\n") {
		f := strings.Fields(line)
		if i := slices.Index(f, "->"); i > 0 && i+1 < len(f) {
			links[f[i-1]] = f[i+1]
		}
	}
	return links
}

// inodeOf returns the inode of f (for a pipe, the N of pipe:[N]).
func inodeOf(t testing.TB, f *os.File) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func TestEscalateOnlyStdioFds(t *testing.T) {
	ts := startSession(t, fixed(Escalate, ""), Options{})
	// Open and leak-bait: descriptors the server process holds must not
	// reach the escalated command.
	for range 3 {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
	}
	escalateStdioOnly(t, ts)
}

// escalateStdioOnly escalates fdListing with "ping" on stdin and checks
// that the command saw its stdio and held no fd beyond 0, 1 and 2.
func escalateStdioOnly(t *testing.T, ts *testSession) {
	t.Helper()
	r := ts.escalate(t, shReq(fdListing, nil), "ping\n")
	res, out, errOut := r.wait()
	if res.ExitCode != 0 || !strings.HasPrefix(out, "out:ping\n") || errOut != "err:ping\n" {
		t.Fatalf("exit %d stdout %q stderr %q", res.ExitCode, out, errOut)
	}
	checkStdioOnly(t, out, r.inodes)
}
