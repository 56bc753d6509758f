package loginenv

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/execgate/execgate/internal/testbash"
)

// trickyProfile exercises what a snapshot must carry: values no quoting
// scheme may mangle, an unset, options that change parsing (extglob) and
// behaviour, functions (one needing extglob, one exported, one read-only),
// aliases with quotes, BASH_ENV for child shells, and noise on both
// outputs from programs it runs.
const trickyProfile = `
echo "profile on stdout"
echo "profile on stderr" >&2
/bin/true
export PATH="$HOME/bin:$PATH"
export QUOTED="it's \"quoted\" \$HOME \\ back"
export MULTI=$'line one\nline two\ttab'
export UNICODE='héllo wörld ✓'
export EMPTY=
unset -v GOES_AWAY
NOT_EXPORTED=1
shopt -s extglob nocaseglob
set -o pipefail
set -o nounset
needs_extglob() { case $1 in +([0-9])) echo number;; *) echo other;; esac; }
exported_fn() { echo "exported $*"; }
export -f exported_fn
frozen() { :; }
readonly -f frozen
alias ll='ls -l'
alias say="echo 'single' \"double\""
shopt -s expand_aliases
export BASH_ENV="$HOME/child-env"
`

// stateScript prints what a shell's command would see of its environment.
const stateScript = `export -p; echo ===; declare -f; echo ===; declare -F; echo ===; alias -p; echo ===; shopt -p; echo ===; set +o`

func TestReplayMatchesLoginShell(t *testing.T) {
	bash := testbash.Path(t)
	home := t.TempDir()
	write(t, filepath.Join(home, ".profile"), trickyProfile)
	write(t, filepath.Join(home, "child-env"), "echo child-env sourced\n")
	env := []string{"HOME=" + home, "PATH=/usr/bin:/bin", "GOES_AWAY=1", "KEPT=same", "LANG=C.UTF-8"}

	dump, noise := capture(t, bash, env, home)
	if !strings.Contains(noise, "profile on stdout") || !strings.Contains(noise, "profile on stderr") {
		t.Errorf("the profile's output went elsewhere than its stdout and stderr: %q", noise)
	}
	snap, err := Parse(dump)
	if err != nil {
		t.Fatalf("Parse: %v\ndump: %q", err, dump)
	}
	bare, err := BareOptions(t.Context(), bash, env)
	if err != nil {
		t.Fatal(err)
	}
	rc := filepath.Join(t.TempDir(), "login.rc")
	write(t, rc, string(snap.Render(RenderOptions{Start: env, Bare: bare})))

	login := run(t, bash, env, home, "-lc", stateScript)
	replay := run(t, bash, append(env, "BASH_ENV="+rc), home, "-c", stateScript)
	if replay.stderr != "" {
		t.Errorf("the replaying shell printed on stderr: %q\nrc:\n%s", replay.stderr, readFile(t, rc))
	}
	// The login shell's stdout starts with the profile's line and that of
	// $BASH_ENV, which it sources after the profile; past them both must
	// describe the same shell, but for the read-only login_shell.
	want := strings.TrimPrefix(login.stdout, "profile on stdout\nchild-env sourced\n")
	want = strings.Replace(want, "shopt -s login_shell", "shopt -u login_shell", 1)
	if replay.stdout != want {
		t.Errorf("replayed state differs from the login shell's:\n%s\nrc:\n%s", lineDiff(want, replay.stdout), readFile(t, rc))
	}

	// What the command sees, directly.
	got := run(t, bash, append(env, "BASH_ENV="+rc), home, "-c", `echo "$QUOTED|$MULTI|$UNICODE|${GOES_AWAY-unset}|$KEPT"; needs_extglob 123; say; bash -c 'exported_fn ok'`)
	wantOut := "it's \"quoted\" $HOME \\ back|line one\nline two\ttab|héllo wörld ✓|unset|same\nnumber\nsingle double\nchild-env sourced\nexported ok\n"
	if got.stdout != wantOut || got.stderr != "" {
		t.Errorf("command in the replayed shell: stdout %q stderr %q, want %q and nothing", got.stdout, got.stderr, wantOut)
	}
}

// TestReplayKeepsCommandView: the command of a replaying shell sees its
// own script as `bash -c` gives it (BASH_EXECUTION_STRING, $0, LINENO).
func TestReplayKeepsCommandView(t *testing.T) {
	bash := testbash.Path(t)
	home := t.TempDir()
	write(t, filepath.Join(home, ".profile"), "export A=1\n")
	env := []string{"HOME=" + home, "PATH=/usr/bin:/bin"}
	dump, _ := capture(t, bash, env, home)
	snap, err := Parse(dump)
	if err != nil {
		t.Fatal(err)
	}
	rc := filepath.Join(t.TempDir(), "login.rc")
	write(t, rc, string(snap.Render(RenderOptions{Start: env})))
	script := "echo \"$0|$LINENO|$A\"\necho \"$BASH_EXECUTION_STRING\" | wc -l"
	got := run(t, bash, append(env, "BASH_ENV="+rc), home, "-c", script)
	want := run(t, bash, append(env, "A=1"), home, "-c", script)
	if got != want {
		t.Errorf("replayed %+v, plain %+v", got, want)
	}
}

// capture runs Script in a login bash as the server does (stdin a socket
// the dump is read from) and returns the dump and the profile's output.
func capture(t *testing.T, bash string, env []string, dir string) (dump []byte, noise string) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "dump"), os.NewFile(uintptr(fds[1]), "dump-child")
	defer ours.Close()
	if err := unix.Shutdown(fds[0], unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bash, "-lc", Script)
	cmd.Env, cmd.Dir = env, dir
	var out bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = theirs, &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	theirs.Close()
	dump, err = io.ReadAll(ours)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("capture: %v\n%s", err, out.String())
	}
	return dump, out.String()
}

type output struct{ stdout, stderr string }

func run(t *testing.T, bash string, env []string, dir string, args ...string) output {
	t.Helper()
	cmd := exec.CommandContext(context.Background(), bash, args...)
	cmd.Env, cmd.Dir = env, dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run()
	return output{stdout.String(), stderr.String()}
}
