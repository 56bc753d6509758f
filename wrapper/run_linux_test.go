package wrapper_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/execgate/execgate/escalate"
)

// TestRunTransparent runs each program once directly and once through the
// wrapper answering Run, with the same surroundings, and wants the same
// output and status; it also checks what the server was asked.
func TestRunTransparent(t *testing.T) {
	dir := t.TempDir()
	fd3, err := os.Create(filepath.Join(dir, "fd3"))
	if err != nil {
		t.Fatal(err)
	}
	defer fd3.Close()
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		p    proc
		want string // expected stdout, when it is not obvious from the direct run
	}{
		{name: "argv0 differs from file", p: proc{argv: []string{"/bin/cat", "my-cat", "/proc/self/cmdline"}}, want: "my-cat\x00/proc/self/cmdline\x00"},
		{name: "environment", p: proc{argv: []string{"/usr/bin/env", "env", "-0"}, env: []string{"A=1", "MULTI=line1\nline2", "EMPTY=", "UTF=caf\xc3\xa9", "BAD=\xff\xfe"}}},
		{name: "working directory", p: proc{argv: []string{"/bin/pwd", "pwd", "-P"}, dir: dir}, want: realDir + "\n"},
		{name: "stdin", p: proc{argv: []string{"/usr/bin/tr", "tr", "a-z", "A-Z"}, stdin: "hello\n"}, want: "HELLO\n"},
		{name: "extra descriptor 3", p: proc{argv: []string{"/bin/sh", "sh", "-c", "echo to-fd3 >&3; ls -l /proc/self/fd/3 | sed 's/.*-> //'"}, extra: []*os.File{fd3}}, want: filepath.Join(dir, "fd3") + "\n"},
		{name: "exit 0", p: proc{argv: []string{"/bin/sh", "sh", "-c", "exit 0"}}},
		{name: "exit 1", p: proc{argv: []string{"/bin/sh", "sh", "-c", "exit 1"}}},
		{name: "exit 42", p: proc{argv: []string{"/bin/sh", "sh", "-c", "exit 42"}}},
		{name: "exit 255", p: proc{argv: []string{"/bin/sh", "sh", "-c", "exit 255"}}},
		{name: "killed by signal", p: proc{argv: []string{"/bin/sh", "sh", "-c", "kill -TERM $$"}}},
		{name: "stderr", p: proc{argv: []string{"/bin/sh", "sh", "-c", "echo oops >&2; exit 3"}}},
		{name: "relative file", p: proc{argv: []string{"./sh", "sh", "-c", "echo rel"}, dir: "/bin"}, want: "rel\n"},
		{name: "ignored SIGINT", p: proc{argv: []string{"/bin/grep", "grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"}, signals: "ignore=2"}},
		{name: "ignored SIGHUP and SIGINT", p: proc{argv: []string{"/bin/grep", "grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"}, signals: "ignore=1,2"}},
		{name: "blocked SIGUSR1", p: proc{argv: []string{"/bin/grep", "grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"}, signals: "block=10"}},
		{name: "blocked and ignored mix", p: proc{argv: []string{"/bin/grep", "grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"}, signals: "ignore=2,20,21,22;block=10,12,13,14,28,40,64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, runAlways)
			direct := tt.p.run(t, s, false)
			if tt.want != "" && direct.stdout != tt.want {
				t.Fatalf("direct run: got %s, want stdout %q", direct, tt.want)
			}
			wrapped := tt.p.run(t, s, true)
			if wrapped != direct {
				t.Errorf("through the wrapper:\n got %s\nwant %s", wrapped, direct)
			}
			reqs := s.seen()
			if len(reqs) != 1 {
				t.Fatalf("server saw %d requests, want 1", len(reqs))
			}
			wantDir := tt.p.dir
			if wantDir == "" {
				wantDir, _ = os.Getwd()
			}
			wantDir, _ = filepath.EvalSymlinks(wantDir)
			got := reqs[0]
			if got.File != tt.p.argv[0] || !reflect.DeepEqual(got.Argv, tt.p.argv[1:]) || got.Workdir != wantDir {
				t.Errorf("request = file %q argv %q workdir %q, want %q %q %q", got.File, got.Argv, got.Workdir, tt.p.argv[0], tt.p.argv[1:], wantDir)
			}
			for _, kv := range tt.p.env {
				k, v, _ := strings.Cut(kv, "=")
				if !strings.Contains(v, "\xff") && got.Env[k] != v {
					t.Errorf("request env %s = %q, want %q", k, got.Env[k], v)
				}
			}
			if errs := s.errors(); len(errs) > 0 {
				t.Errorf("server errors: %v", errs)
			}
		})
	}
}

// TestRunMaskReachesProgram checks the signal state through the wrapper
// against literal expectations, not only against a direct run.
func TestRunMaskReachesProgram(t *testing.T) {
	s := newServer(t, runAlways)
	p := proc{argv: []string{"/bin/grep", "grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"}, signals: "ignore=2;block=10"}
	got := p.run(t, s, true)
	// Signals 32-34 keep whatever the test itself inherited (make, for one,
	// runs its children with 32 and 33 ignored); the runtime never touches them.
	want := fmt.Sprintf("SigBlk:\t0000000000000200\nSigIgn:\t%016x\n", 0x2|ownSigIgn(t)&0x380000000)
	if got.stdout != want || got.status.ExitStatus() != 0 {
		t.Errorf("got %s, want stdout %q", got, want)
	}
}

// TestHiddenSubcommand runs the wrapper role as `execgate execve-wrapper`.
func TestHiddenSubcommand(t *testing.T) {
	s := newServer(t, runAlways)
	p := proc{argv: []string{"/bin/echo", "echo", "hidden"}}
	cmd := p.command(s, true)
	cmd.Path = execgateBin
	cmd.Args = append([]string{"execgate", "execve-wrapper"}, p.argv...)
	out, err := cmd.Output()
	if err != nil || string(out) != "hidden\n" {
		t.Fatalf("got %q, %v; want \"hidden\\n\"", out, err)
	}
	if reqs := s.seen(); len(reqs) != 1 || reqs[0].File != "/bin/echo" {
		t.Errorf("server saw %+v", reqs)
	}
}

// TestDeny prints the reason and exits 1 without running the program.
func TestDeny(t *testing.T) {
	tests := []struct {
		reason, want string
	}{
		{"rm is forbidden here", "Execution denied: rm is forbidden here\n"},
		{"", "Execution denied\n"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "ran")
			s := newServer(t, func(escalate.Request) reply {
				return reply{resp: escalate.Response{Action: escalate.Deny, Reason: tt.reason}}
			})
			got := proc{argv: []string{"/usr/bin/touch", "touch", marker}}.run(t, s, true)
			if got.status.ExitStatus() != 1 || got.stderr != tt.want || got.stdout != "" {
				t.Errorf("got %s, want exit 1 and stderr %q", got, tt.want)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Error("the denied program ran")
			}
		})
	}
}

// TestRuntimeSignalLimit pins the wrapper's known limit (signal_linux.go):
// an inherited SIG_IGN the Go runtime replaces (QUIT, TERM, PIPE, USR1) and
// a blocked signal it unblocks (HUP, INT, QUIT, TERM, CHLD) reach the
// program as default and unblocked, while those it leaves alone (ignored
// HUP and INT, blocked USR1 and real-time signals) arrive exactly. A change
// in the runtime shows here first.
func TestRuntimeSignalLimit(t *testing.T) {
	s := newServer(t, runAlways)
	p := proc{argv: []string{"/bin/grep", "grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"},
		signals: "ignore=1,2,3,10,13,15;block=1,2,3,10,15,17,40"}
	got := p.run(t, s, true)
	// Blocked: USR1 (10) and signal 40; ignored: HUP and INT (1, 2), plus
	// 32-34 as the test itself inherited them (the runtime never touches
	// those either).
	want := fmt.Sprintf("SigBlk:\t%016x\nSigIgn:\t%016x\n", uint64(1)<<9|uint64(1)<<39, 0x3|ownSigIgn(t)&0x380000000)
	if got.stdout != want || got.status.ExitStatus() != 0 {
		t.Errorf("got %s, want stdout %q", got, want)
	}
}

// ownSigIgn is the SigIgn set of the test process itself.
func ownSigIgn(t *testing.T) uint64 {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "SigIgn:\t"); ok {
			n, err := strconv.ParseUint(v, 16, 64)
			if err != nil {
				t.Fatalf("parse SigIgn %q: %v", v, err)
			}
			return n
		}
	}
	t.Fatal("no SigIgn line in /proc/self/status")
	return 0
}
