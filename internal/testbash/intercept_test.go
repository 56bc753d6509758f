//go:build linux

package testbash

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestInterception runs scripts under the patched Bash with EXEC_WRAPPER set
// at startup and checks output and the execs the wrapper saw.
func TestInterception(t *testing.T) {
	bash := Path(t)
	tests := []struct {
		name   string
		script string
		stdout string
		// logged lists "COMMAND ARGV..." lines in any order; {W} is the
		// wrapper path, {B} the patched Bash.
		logged []string
	}{
		{"and-list then colon", `/bin/true && /bin/echo x; :`, "x\n",
			[]string{"/bin/true /bin/true", "/bin/echo /bin/echo x"}},
		{"or-list", `/bin/false || /bin/echo y z`, "y z\n",
			[]string{"/bin/false /bin/false", "/bin/echo /bin/echo y z"}},
		{"unset both variables", `unset EXEC_WRAPPER BASH_EXEC_WRAPPER; /bin/echo hi`, "hi\n",
			[]string{"/bin/echo /bin/echo hi"}},
		{"empty prefix assignment", `EXEC_WRAPPER= /bin/echo hi`, "hi\n",
			[]string{"/bin/echo /bin/echo hi"}},
		{"reassigned and exported", `export EXEC_WRAPPER=/bin/false BASH_EXEC_WRAPPER=/bin/false; /bin/echo hi`, "hi\n",
			[]string{"/bin/echo /bin/echo hi"}},
		{"exec builtin", `exec /bin/echo hi`, "hi\n",
			[]string{"/bin/echo /bin/echo hi"}},
		{"command builtin", `command /bin/echo hi`, "hi\n",
			[]string{"/bin/echo /bin/echo hi"}},
		{"PATH lookup keeps argv0", `echo hi | cat`, "hi\n",
			[]string{"/usr/bin/cat cat"}},
		{"pipeline", `/bin/echo hi | /usr/bin/tr a-z A-Z`, "HI\n",
			[]string{"/bin/echo /bin/echo hi", "/usr/bin/tr /usr/bin/tr a-z A-Z"}},
		{"subshell", `(/bin/echo a; /bin/echo b)`, "a\nb\n",
			[]string{"/bin/echo /bin/echo a", "/bin/echo /bin/echo b"}},
		{"command substitution", `x=$(/bin/echo hi); /bin/echo "got $x"`, "got hi\n",
			[]string{"/bin/echo /bin/echo hi", "/bin/echo /bin/echo got hi"}},
		{"background job", `/bin/echo bg & wait`, "bg\n",
			[]string{"/bin/echo /bin/echo bg"}},
		{"function", `f() { /bin/echo "$@"; }; f 1 2`, "1 2\n",
			[]string{"/bin/echo /bin/echo 1 2"}},
		{"after cd", `cd / && /bin/echo hi`, "hi\n",
			[]string{"/bin/echo /bin/echo hi"}},
		{"children see the exported value", `/usr/bin/printenv EXEC_WRAPPER`, "{W}\n",
			[]string{"/usr/bin/printenv /usr/bin/printenv EXEC_WRAPPER"}},
		{"children see a changed value", `EXEC_WRAPPER=other /usr/bin/printenv EXEC_WRAPPER`, "other\n",
			[]string{"/usr/bin/printenv /usr/bin/printenv EXEC_WRAPPER"}},
		{"nested patched bash stays intercepted", `"$BASH" -c '/bin/echo nested'`, "nested\n",
			[]string{"{B} {B} -c /bin/echo nested", "/bin/echo /bin/echo nested"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			wrapper, logPath := newWrapper(t, dir, "wrap")
			expand := strings.NewReplacer("{W}", wrapper, "{B}", bash)
			res := runBash(t, bash, dir, baseEnv(dir, "EXEC_WRAPPER="+wrapper), tc.script)
			if res.code != 0 || res.stdout != expand.Replace(tc.stdout) {
				t.Errorf("got stdout %q exit %d (stderr %q), want %q exit 0",
					res.stdout, res.code, res.stderr, expand.Replace(tc.stdout))
			}
			want := make([]string, len(tc.logged))
			for i, l := range tc.logged {
				want[i] = expand.Replace(l)
			}
			if got := logLines(t, logPath); !slices.Equal(sorted(got), sorted(want)) {
				t.Errorf("wrapper saw %q, want %q", got, want)
			}
		})
	}
}

// TestWrapperSelection covers which variable names the wrapper and that the
// choice is made once, from the environment Bash started with.
func TestWrapperSelection(t *testing.T) {
	bash := Path(t)
	tests := []struct {
		name string
		// env entries; {A} and {B} are two distinct logging wrappers.
		env    []string
		script string
		wantA  bool // wrapper A logged /bin/echo
		wantB  bool
	}{
		{"EXEC_WRAPPER", []string{"EXEC_WRAPPER={A}"}, `/bin/echo hi`, true, false},
		{"BASH_EXEC_WRAPPER alone", []string{"BASH_EXEC_WRAPPER={B}"}, `/bin/echo hi`, false, true},
		{"EXEC_WRAPPER wins", []string{"EXEC_WRAPPER={A}", "BASH_EXEC_WRAPPER={B}"}, `/bin/echo hi`, true, false},
		{"empty EXEC_WRAPPER falls back", []string{"EXEC_WRAPPER=", "BASH_EXEC_WRAPPER={B}"}, `/bin/echo hi`, false, true},
		{"none configured", nil, `/bin/echo hi`, false, false},
		{"empty at startup means none", []string{"EXEC_WRAPPER=", "BASH_EXEC_WRAPPER="}, `/bin/echo hi`, false, false},
		{"set after startup is ignored", nil, `export EXEC_WRAPPER={A} BASH_EXEC_WRAPPER={B}; /bin/echo hi`, false, false},
		{"switching after startup is ignored", []string{"EXEC_WRAPPER={A}"}, `export EXEC_WRAPPER={B}; /bin/echo hi`, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			a, logA := newWrapper(t, dir, "a")
			b, logB := newWrapper(t, dir, "b")
			expand := strings.NewReplacer("{A}", a, "{B}", b)
			env := baseEnv(dir)
			for _, e := range tc.env {
				env = append(env, expand.Replace(e))
			}
			res := runBash(t, bash, dir, env, expand.Replace(tc.script))
			if res.code != 0 || res.stdout != "hi\n" {
				t.Fatalf("got stdout %q exit %d (stderr %q), want \"hi\\n\" exit 0", res.stdout, res.code, res.stderr)
			}
			for _, w := range []struct {
				name, log string
				want      bool
			}{{"A", logA, tc.wantA}, {"B", logB, tc.wantB}} {
				got := slices.Contains(logLines(t, w.log), "/bin/echo /bin/echo hi")
				if got != w.want {
					t.Errorf("wrapper %s intercepted /bin/echo: %v, want %v", w.name, got, w.want)
				}
			}
		})
	}
}

// TestRelativeWrapperIsAnchored checks that a relative wrapper path is
// resolved against the starting directory, so `cd` cannot swap it.
func TestRelativeWrapperIsAnchored(t *testing.T) {
	bash := Path(t)
	dir := t.TempDir()
	_, logPath := newWrapper(t, dir, "wrap")
	other := t.TempDir()
	_, otherLog := newWrapper(t, other, "wrap")
	script := "cd " + shellQuote(other) + " && /bin/echo hi"
	res := runBash(t, bash, dir, baseEnv(dir, "EXEC_WRAPPER=./wrap"), script)
	if res.code != 0 || res.stdout != "hi\n" {
		t.Fatalf("got stdout %q exit %d (stderr %q)", res.stdout, res.code, res.stderr)
	}
	if got := logLines(t, logPath); !slices.Equal(got, []string{"/bin/echo /bin/echo hi"}) {
		t.Errorf("starting directory's wrapper saw %q", got)
	}
	if got := logLines(t, otherLog); got != nil {
		t.Errorf("wrapper in the new directory ran: %q", got)
	}
}

// TestFailClosed: when the wrapper cannot be executed the command must not
// run, the shell must say why (naming the wrapper) and the status is 126.
func TestFailClosed(t *testing.T) {
	bash := Path(t)
	tests := []struct {
		name    string
		wrapper func(t *testing.T, dir string) string
		script  string
		stdout  string
		code    int
		errs    int // stderr lines: one per failed exec, no duplicates
	}{
		{"missing", missing, `/bin/touch marker`, "", 126, 1},
		{"missing, status visible", missing, `/bin/touch marker; echo "rc=$?"`, "rc=126\n", 0, 1},
		{"missing, exec builtin", missing, `exec /bin/touch marker`, "", 126, 1},
		{"missing, in pipeline", missing, `/bin/touch marker | cat; echo "${PIPESTATUS[*]}"`, "126 126\n", 0, 2},
		{"not executable", notExecutable, `/bin/touch marker`, "", 126, 1},
		{"directory", func(_ *testing.T, dir string) string { return dir }, `/bin/touch marker`, "", 126, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			wrapper := tc.wrapper(t, dir)
			res := runBash(t, bash, dir, baseEnv(dir, "EXEC_WRAPPER="+wrapper), tc.script)
			if res.code != tc.code || res.stdout != tc.stdout {
				t.Errorf("got stdout %q exit %d, want %q exit %d", res.stdout, res.code, tc.stdout, tc.code)
			}
			if !strings.Contains(res.stderr, "cannot execute exec wrapper "+wrapper) {
				t.Errorf("stderr %q does not name the wrapper %s", res.stderr, wrapper)
			}
			if n := strings.Count(res.stderr, "\n"); n != tc.errs {
				t.Errorf("stderr has %d lines, want %d: %q", n, tc.errs, res.stderr)
			}
			if _, err := os.Stat(filepath.Join(dir, "marker")); err == nil {
				t.Errorf("the command ran unwrapped: marker exists")
			}
		})
	}
}

func missing(_ *testing.T, dir string) string { return filepath.Join(dir, "no-such-wrapper") }

func notExecutable(t *testing.T, dir string) string {
	p := filepath.Join(dir, "wrap-0644")
	if err := os.WriteFile(p, []byte("#!/bin/sh\nexec \"$@\"\n"), 0o644); err != nil {
		t.Fatalf("writing wrapper: %v", err)
	}
	return p
}

// TestShebanglessScriptWithoutWrapper: with no wrapper configured the patched
// Bash keeps stock ENOEXEC handling (a text file without #! runs as a Bash
// script), exactly like the system Bash.
func TestShebanglessScriptWithoutWrapper(t *testing.T) {
	patched, plain := Path(t), Plain(t)
	dir := t.TempDir()
	script := "echo \"script $0 $1 ${BASH_VERSINFO[0]}\"\n/bin/echo ran\nexit 3\n"
	if err := os.WriteFile(filepath.Join(dir, "noshebang"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	const cmd = `./noshebang arg; echo "rc=$?"`
	want := "script ./noshebang arg 5\nran\nrc=3\n"
	for _, bash := range []string{patched, plain} {
		res := runBash(t, bash, dir, baseEnv(dir), cmd)
		if res.code != 0 || res.stdout != want {
			t.Errorf("%s: got stdout %q exit %d (stderr %q), want %q", bash, res.stdout, res.code, res.stderr, want)
		}
	}
}
