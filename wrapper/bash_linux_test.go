package wrapper_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/testbash"
)

// End to end: the real patched Bash, the real wrapper, the scripted server.

// bashRun runs `bash -c script` in dir. With s set, Bash gets the wrapper
// (EXEC_WRAPPER) and the server's socket, as the sandbox helper sets them up.
// signals, when set, starts Bash under the signal helper.
func bashRun(t testing.TB, bash string, s *server, dir, script, signals string) outcome {
	t.Helper()
	return bashRunWith(t, bash, wrapperPath, s, dir, script, signals)
}

// bashRunWith is bashRun with a chosen wrapper binary.
func bashRunWith(t testing.TB, bash, wrapper string, s *server, dir, script, signals string) outcome {
	t.Helper()
	path, args := bash, []string{bash, "-c", script}
	env := []string{"PATH=/usr/bin:/bin", "LC_ALL=C", "HOME=" + dir}
	if signals != "" {
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		path, args = self, append([]string{self, bash}, args...)
		env = append(env, helperEnv+"="+signals)
	}
	cmd := &exec.Cmd{Path: path, Args: args, Dir: dir, Env: env}
	if s != nil {
		// The socket sits at 9 so scripts can use the low descriptors.
		cmd.ExtraFiles = []*os.File{6: s.child}
		cmd.Env = append(cmd.Env, "EXEC_WRAPPER="+wrapper, "CODEX_ESCALATE_SOCKET=9")
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("run %s: %v", bash, err)
		}
	}
	return outcome{stdout: stdout.String(), stderr: stderr.String(), status: cmd.ProcessState.Sys().(syscall.WaitStatus)}
}

// decided renders the server's requests as sorted "FILE ARGV0 ARGV1..." lines.
func decided(s *server) []string {
	var lines []string
	for _, r := range s.seen() {
		lines = append(lines, strings.Join(append([]string{r.File}, r.Argv...), " "))
	}
	slices.Sort(lines)
	return lines
}

// TestBashInterception: every program Bash starts reaches the server with its
// resolved path and expanded argv, and the script behaves as under plain Bash.
func TestBashInterception(t *testing.T) {
	bash := testbash.Path(t)
	dir := t.TempDir()
	tests := []struct {
		name, script, stdout string
		decided              []string
	}{
		{"for loop over paths", `for f in /bin/true /usr/bin/env; do $f >/dev/null; done`, "",
			[]string{"/bin/true /bin/true", "/usr/bin/env /usr/bin/env"}},
		{"pipeline", `/bin/echo hi there | tr a-z A-Z`, "HI THERE\n",
			[]string{"/bin/echo /bin/echo hi there", "/usr/bin/tr tr a-z A-Z"}},
		{"subshell", `(/bin/echo a; /bin/echo b)`, "a\nb\n",
			[]string{"/bin/echo /bin/echo a", "/bin/echo /bin/echo b"}},
		{"command builtin", `command /bin/echo c`, "c\n", []string{"/bin/echo /bin/echo c"}},
		{"exec builtin", `exec /bin/echo e`, "e\n", []string{"/bin/echo /bin/echo e"}},
		{"exec -a", `exec -a renamed /bin/cat /proc/self/cmdline | tr '\0' ' '`, "renamed /proc/self/cmdline ",
			[]string{"/bin/cat renamed /proc/self/cmdline", `/usr/bin/tr tr \0  `}},
		{"command substitution", `x=$(/bin/echo s); /bin/echo "got $x"`, "got s\n",
			[]string{"/bin/echo /bin/echo got s", "/bin/echo /bin/echo s"}},
		{"function", `f() { /bin/echo "$@"; }; f 1 "2  3"`, "1 2  3\n", []string{"/bin/echo /bin/echo 1 2  3"}},
		{"alias", "shopt -s expand_aliases\nalias hello='/bin/echo hello'\nhello world", "hello world\n",
			[]string{"/bin/echo /bin/echo hello world"}},
		{"PATH lookup", `echo x | cat`, "x\n", []string{"/usr/bin/cat cat"}},
		{"and-list then colon", `/bin/true && /bin/echo x; :`, "x\n",
			[]string{"/bin/echo /bin/echo x", "/bin/true /bin/true"}},
		{"unset wrapper variables", `unset EXEC_WRAPPER BASH_EXEC_WRAPPER; /bin/echo hi`, "hi\n", []string{"/bin/echo /bin/echo hi"}},
		{"empty wrapper variable", `EXEC_WRAPPER= /bin/echo hi`, "hi\n", []string{"/bin/echo /bin/echo hi"}},
		{"exit status", `/bin/sh -c 'exit 5'; /bin/echo "status $?"`, "status 5\n",
			[]string{"/bin/echo /bin/echo status 5", "/bin/sh /bin/sh -c exit 5"}},
		{"argv0 environment and cwd", `cd /tmp && FOO=bar /usr/bin/printenv FOO && /bin/pwd`, "bar\n/tmp\n",
			[]string{"/bin/pwd /bin/pwd", "/usr/bin/printenv /usr/bin/printenv FOO"}},
		{"extra descriptor", `/bin/sh -c 'echo via3 >&3' 3>&1`, "via3\n", []string{"/bin/sh /bin/sh -c echo via3 >&3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain := bashRun(t, testbash.Plain(t), nil, dir, tt.script, "")
			if plain.stdout != tt.stdout {
				t.Fatalf("plain bash: %s, want stdout %q", plain, tt.stdout)
			}
			s := newServer(t, runAlways)
			got := bashRun(t, bash, s, dir, tt.script, "")
			if got != plain {
				t.Errorf("patched bash through the wrapper:\n got %s\nwant %s", got, plain)
			}
			if d := decided(s); !slices.Equal(d, tt.decided) {
				t.Errorf("server decided %q, want %q", d, tt.decided)
			}
			if errs := s.errors(); len(errs) > 0 {
				t.Errorf("server errors: %v", errs)
			}
		})
	}
}

// TestBashSignalState: a program's ignored and blocked signals are the same
// under the patched Bash with the wrapper as under plain Bash, for the
// signals the Go runtime leaves alone (TestRuntimeSignalLimit has the rest).
func TestBashSignalState(t *testing.T) {
	bash := testbash.Path(t)
	dir := t.TempDir()
	tests := []struct {
		name, script, signals string
	}{
		{"trap INT", `trap '' INT; grep -E '^Sig(Ign|Blk)' /proc/self/status`, ""},
		{"trap HUP INT", `trap '' HUP INT; grep -E '^Sig(Ign|Blk)' /proc/self/status`, ""},
		{"job control signals ignored at start", `grep -E '^Sig(Ign|Blk)' /proc/self/status`, "ignore=20,21,22"},
		{"SIGUSR1 blocked by the parent", `trap '' INT; grep -E '^Sig(Ign|Blk)' /proc/self/status`, "block=10"},
		{"blocked mix", `grep -E '^Sig(Ign|Blk)' /proc/self/status`, "block=10,12,13,14,40"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain := bashRun(t, testbash.Plain(t), nil, dir, tt.script, tt.signals)
			s := newServer(t, runAlways)
			got := bashRunWith(t, bash, wrapperPath, s, dir, tt.script, tt.signals)
			if got != plain || got.stdout == "" {
				t.Errorf("patched bash through the wrapper:\n got %s\nwant %s", got, plain)
			}
			if len(s.seen()) != 1 {
				t.Errorf("server saw %d requests, want 1", len(s.seen()))
			}
		})
	}
}

// TestBashParallelExecs: 50 concurrent execs from one script are each
// decided exactly once and none gets another's answer.
func TestBashParallelExecs(t *testing.T) {
	bash := testbash.Path(t)
	// The answer depends on the request: odd numbers are denied, so a
	// crossed reply would show as a wrong line or status.
	s := newServer(t, func(r escalate.Request) reply {
		if len(r.Argv) == 2 && r.File == "/bin/echo" {
			if n, err := strconv.Atoi(r.Argv[1]); err == nil && n%2 == 1 {
				return reply{resp: escalate.Response{Action: escalate.Deny, Reason: "odd " + r.Argv[1]}}
			}
		}
		return runAlways(r)
	})
	got := bashRun(t, bash, s, t.TempDir(), `for i in $(seq 50); do /bin/echo $i & done; wait`, "")
	var wantOut, wantErr []string
	var wantDecided []string
	for i := 1; i <= 50; i++ {
		if i%2 == 0 {
			wantOut = append(wantOut, strconv.Itoa(i))
		} else {
			wantErr = append(wantErr, "Execution denied: odd "+strconv.Itoa(i))
		}
		wantDecided = append(wantDecided, "/bin/echo /bin/echo "+strconv.Itoa(i))
	}
	wantDecided = append(wantDecided, "/usr/bin/seq seq 50")
	slices.Sort(wantOut)
	slices.Sort(wantErr)
	slices.Sort(wantDecided)
	lines := func(s string) []string {
		l := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		slices.Sort(l)
		return l
	}
	if out := lines(got.stdout); !slices.Equal(out, wantOut) {
		t.Errorf("stdout lines %q, want %q", out, wantOut)
	}
	if errs := lines(got.stderr); !slices.Equal(errs, wantErr) {
		t.Errorf("stderr lines %q, want %q", errs, wantErr)
	}
	if d := decided(s); !slices.Equal(d, wantDecided) {
		t.Errorf("server decided %d requests %q, want %q", len(d), d, wantDecided)
	}
}

// TestBashEscalateAndDeny: escalated commands get the script's pipes and
// report their status; a denied one prints the reason and gives 1.
func TestBashEscalateAndDeny(t *testing.T) {
	bash := testbash.Path(t)
	dir := t.TempDir()
	decide := func(r escalate.Request) reply {
		switch filepath.Base(r.File) {
		case "rm":
			return reply{resp: escalate.Response{Action: escalate.Deny, Reason: "rm is not allowed"}}
		case "sh", "tr", "echo":
			return escalateAlways(r)
		}
		return runAlways(r)
	}
	tests := []struct {
		name, script string
		want         outcome
	}{
		{"pipeline with both ends escalated", `/bin/echo hello | /usr/bin/tr a-z A-Z`, outcome{stdout: "HELLO\n"}},
		{"exit status", `/bin/sh -c 'exit 5'; echo "status $?"`, outcome{stdout: "status 5\n"}},
		// Bash reports the death itself, as it does for a local command.
		{"death by signal", `/bin/sh -c 'kill -TERM $$'; echo "status $?"`, outcome{stdout: "status 143\n", stderr: "Terminated\n"}},
		{"stderr", `/bin/sh -c 'echo err >&2'`, outcome{stderr: "err\n"}},
		{"deny", `/bin/rm -rf /nonexistent; echo "status $?"`, outcome{stdout: "status 1\n", stderr: "Execution denied: rm is not allowed\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, decide)
			got := bashRun(t, bash, s, dir, tt.script, "")
			if got.stdout != tt.want.stdout || got.stderr != tt.want.stderr {
				t.Errorf("got %s, want stdout %q stderr %q", got, tt.want.stdout, tt.want.stderr)
			}
			if errs := s.errors(); len(errs) > 0 {
				t.Errorf("server errors: %v", errs)
			}
		})
	}
}

// TestBashScriptWithoutShebang: the wrapper's ENOEXEC fallback runs the file
// with the patched Bash, whose own execs stay intercepted.
func TestBashScriptWithoutShebang(t *testing.T) {
	bash := testbash.Path(t)
	dir := t.TempDir()
	writeFile(t, dir, "script", "/bin/echo \"$0|$*\"\n", 0o755)
	plain := bashRun(t, testbash.Plain(t), nil, dir, `./script a b; echo "status $?"`, "")
	s := newServer(t, runAlways)
	got := bashRun(t, bash, s, dir, `./script a b; echo "status $?"`, "")
	if got != plain || got.stdout != "./script|a b\nstatus 0\n" {
		t.Errorf("got %s, want %s", got, plain)
	}
	want := []string{"./script ./script a b", fmt.Sprintf("/bin/echo /bin/echo %s", "./script|a b")}
	slices.Sort(want)
	if d := decided(s); !slices.Equal(d, want) {
		t.Errorf("server decided %q, want %q", d, want)
	}
}

// TestBashUnprivileged: the same path as uid 65534 (as the sandboxed shell
// usually runs): interception, Run, Escalate and Deny.
func TestBashUnprivileged(t *testing.T) {
	bash := testbash.Path(t)
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s := newServer(t, func(r escalate.Request) reply {
		switch filepath.Base(r.File) {
		case "id":
			return escalateAlways(r)
		case "rm":
			return reply{resp: escalate.Response{Action: escalate.Deny, Reason: "no"}}
		}
		return runAlways(r)
	})
	cmd := exec.Command(bash, "-c", `/usr/bin/id -u; /bin/sh -c 'id -u'; /bin/rm -f x; echo "status $?"`)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C", "EXEC_WRAPPER=" + wrapperPath, "CODEX_ESCALATE_SOCKET=3"}
	cmd.ExtraFiles = []*os.File{s.child}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	// id escalated runs on the server's side (as root here); sh runs in place
	// as 65534.
	want := strconv.Itoa(os.Getuid()) + "\n65534\nstatus 1\n"
	if stdout.String() != want || stderr.String() != "Execution denied: no\n" {
		t.Errorf("got stdout %q stderr %q, want %q and the denial", stdout.String(), stderr.String(), want)
	}
	// The id inside sh is not asked about: sh is not the patched Bash (the
	// documented limit: only Bash's own execs are intercepted).
	wantDecided := []string{"/bin/rm /bin/rm -f x", "/bin/sh /bin/sh -c id -u", "/usr/bin/id /usr/bin/id -u"}
	if d := decided(s); !slices.Equal(d, wantDecided) {
		t.Errorf("server decided %q, want %q", d, wantDecided)
	}
}
