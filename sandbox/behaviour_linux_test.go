package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestExitStatus: the call's status is Bash's, 128+N when a signal killed
// it, whichever way the helper supervises.
func TestExitStatus(t *testing.T) {
	e := newTestEnv(t, nobody)
	for _, tc := range []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 7", 7},
		{"kill -TERM $$", 128 + 15},
		{"kill -KILL $$", 128 + 9},
		{e.base + "/missing/program", 127},
	} {
		for _, noNS := range []bool{false, true} {
			_, code := e.launch(t, launchRequest{Policy: Policy{Mode: WorkspaceWrite}, NoNamespaces: noNS,
				Argv: []string{"/bin/bash", "-c", tc.script}})
			if code != tc.want {
				t.Errorf("%q (no-ns=%v): exit %d, want %d", tc.script, noNS, code, tc.want)
			}
		}
	}
	_, code := e.launch(t, launchRequest{Policy: Policy{Mode: WorkspaceWrite}, Argv: []string{"/no/such/bash"}})
	if code != exitNotFound {
		t.Errorf("missing program: exit %d, want %d", code, exitNotFound)
	}
}

// TestCallEnvironment: the program gets the call's environment and nothing
// of the server's or the helper's: an entry without a name or without '='
// is dropped, and of a name given twice the last value is kept in the
// first one's place, as Go's os/exec does. A spare starts with an empty
// environment of its own.
func TestCallEnvironment(t *testing.T) {
	e := newTestEnv(t, nobody)
	env := []string{"A=1", "NOEQUALS", "=x", "B=two words", "A=3", "C="}
	want := "A=3\nB=two words\nC=\n"
	for _, noNS := range []bool{false, true} {
		for _, spare := range []bool{false, true} {
			out, code := e.launch(t, launchRequest{Policy: Policy{Mode: WorkspaceWrite}, NoNamespaces: noNS, Spare: spare,
				Env: env, Argv: []string{"/usr/bin/env"}})
			if code != 0 || out != want {
				t.Errorf("no-ns=%v, spare=%v: exit %d, environment %q, want %q", noNS, spare, code, out, want)
			}
		}
	}
}

// TestSignalsRelayed: SIGINT to the helper reaches Bash.
func TestSignalsRelayed(t *testing.T) {
	e := newTestEnv(t, nobody)
	for _, noNS := range []bool{false, true} {
		// The launch role sends SIGINT to the helper once Bash is up. The
		// loop has no command substitution: Bash runs an INT trap that
		// lands while it parses one with a broken parser state.
		out, code := e.launch(t, launchRequest{Policy: Policy{Mode: WorkspaceWrite}, NoNamespaces: noNS, SignalINT: true,
			Argv: []string{"/bin/bash", "-c", `trap 'echo got-INT; exit 3' INT; echo ready; for ((i = 0; i < 500; i++)); do sleep 0.01; done; echo no-signal`}})
		if code != 3 || !strings.Contains(out, "got-INT") {
			t.Errorf("no-ns=%v: exit %d, want 3 with the trap's output:\n%s", noNS, code, out)
		}
	}
}

// TestWorkdirInsideProtectedPath: a working directory inside .git is looked
// up again after the read-only mount, so relative writes hit it too.
func TestWorkdirInsideProtectedPath(t *testing.T) {
	if !testProbe(t).Namespaces {
		t.Skip("no user namespaces here")
	}
	e := newTestEnv(t, nobody)
	out, _ := e.launch(t, launchRequest{Policy: Policy{Mode: WorkspaceWrite}, Dir: e.ws + "/.git",
		Argv: []string{"/bin/bash", "-c", e.bin + " probe write config; " + e.bin + " probe write hooks/x"}})
	if strings.Count(out, "read-only file system") != 2 {
		t.Errorf("writes relative to a cwd in .git were not refused:\n%s", out)
	}
}

// TestSymlinkedProtectedPathFailsClosed: a protected name that is a
// symlink cannot be made read-only by a mount, so the call is refused.
func TestSymlinkedProtectedPathFailsClosed(t *testing.T) {
	if !testProbe(t).Namespaces {
		t.Skip("no user namespaces here")
	}
	e := newTestEnv(t, nobody)
	mustMkdir(t, e.base+"/elsewhere")
	if err := os.Symlink(e.base+"/elsewhere", e.ws+"/.codex"); err != nil {
		t.Fatal(err)
	}
	marker := e.ws + "/ran"
	out, code := e.launch(t, launchRequest{Policy: Policy{Mode: WorkspaceWrite},
		Argv: []string{"/bin/bash", "-c", "touch " + marker}})
	// The server finds it (resolveMounts): Start fails, and the launch
	// harness says so with 201.
	if code != 201 || !strings.Contains(out, fmt.Sprintf("protect %s/.codex: is a symlink", e.ws)) {
		t.Errorf("exit %d, want Start to fail (201) with a message naming the symlink:\n%s", code, out)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the program ran")
	}
}

// TestOnlyStdioAndEscalateSocketReachBash: Bash holds fds 0-2 and the
// escalate socket, nothing of the helper's nor a stray fd of its parent.
func TestOnlyStdioAndEscalateSocketReachBash(t *testing.T) {
	e := newTestEnv(t, nobody)
	for _, noNS := range []bool{false, true} {
		// The glob's own directory fd shows up too: it is the highest.
		out, code := e.launch(t, launchRequest{Policy: Policy{Mode: WorkspaceWrite}, NoNamespaces: noNS, LeakFD: true,
			Argv: []string{"/bin/bash", "-c", `cd /proc/self/fd && echo *`}})
		var fds []int
		for _, f := range strings.Fields(out) {
			n, _ := strconv.Atoi(f)
			fds = append(fds, n)
		}
		slices.Sort(fds)
		if code != 0 || len(fds) != 5 || !slices.Equal(fds[:4], []int{0, 1, 2, 3}) {
			t.Errorf("no-ns=%v: exit %d, Bash's fds %q, want 0 1 2 3 and the glob's", noNS, code, out)
		}
	}
}

// TestHelperSurvivesTheCall: the sandboxed script cannot kill the
// supervisor that will clean up after it (pid 1 of the namespace; without
// one, the subreaper), which is outside its Landlock domain.
func TestHelperSurvivesTheCall(t *testing.T) {
	if landlockABI() < 6 {
		t.Skip("no signal scoping on this kernel")
	}
	e := newTestEnv(t, nobody)
	for _, noNS := range []bool{false, true} {
		out, code := e.launch(t, launchRequest{Policy: Policy{Mode: WorkspaceWrite}, NoNamespaces: noNS,
			Argv: []string{"/bin/bash", "-c", `kill -KILL $PPID 2>/dev/null; sleep 0.2; echo alive`}})
		if code != 0 || strings.TrimSpace(out) != "alive" {
			t.Errorf("no-ns=%v: exit %d, output %q; want the helper alive and exit 0", noNS, code, out)
		}
	}
}

// TestNonInteractiveBashSkipsBashrc: with the network off, a non-interactive
// `bash -c` must not source ~/.bashrc. Bash sources it when getpeername on
// its stdin fails with anything but "not a socket/not connected" (it then
// believes rshd or sshd started it), so the filter must not answer EPERM.
func TestNonInteractiveBashSkipsBashrc(t *testing.T) {
	e := newTestEnv(t, nobody) // launch runs with HOME=e.home
	mustWrite(t, filepath.Join(e.home, ".bashrc"), "echo BASHRC-SOURCED\n")
	for _, network := range []bool{false, true} {
		out, code := e.launch(t, launchRequest{Policy: Policy{Mode: WorkspaceWrite, NetworkAccess: network},
			Argv: []string{"/bin/bash", "-c", "echo ran"}})
		if code != 0 || strings.Contains(out, "BASHRC-SOURCED") || !strings.Contains(out, "ran") {
			t.Errorf("network=%v: exit %d, output %q; want `ran` without ~/.bashrc", network, code, out)
		}
	}
}

// TestOrphansReapedDuringCall: orphans that exit while the call runs are
// reaped at once by the supervisor they were handed to (pid 1 of the
// call's namespace, or the subreaper without one), not left as zombies, which
// would count against the call's process bound until it ends.
func TestOrphansReapedDuringCall(t *testing.T) {
	e := newTestEnv(t, nobody)
	nsOK := testProbe(t).Namespaces
	// Bash's parent is the helper in both cases; zombies are counted
	// among its children.
	script := `for i in $(seq 20); do (true &); done
for t in $(seq 250); do
  z=0
  for f in /proc/[0-9]*/stat; do
    { read -r s < "$f"; } 2>/dev/null || continue
    set -- ${s##*) }
    [ "$1" = Z ] && [ "$2" = "$PPID" ] && z=$((z+1))
  done
  [ $z = 0 ] && break
  sleep 0.02
done
echo zombies=$z`
	for _, noNS := range []bool{false, true} {
		for _, spare := range []bool{false, true} {
			if !noNS && !nsOK {
				continue
			}
			out, code := e.launch(t, launchRequest{Policy: Policy{Mode: WorkspaceWrite}, NoNamespaces: noNS, Spare: spare,
				Argv: []string{"/bin/bash", "-c", script}})
			if code != 0 || !strings.Contains(out, "zombies=0") {
				t.Errorf("no-ns=%v spare=%v: exit %d, want no zombie left:\n%s", noNS, spare, code, out)
			}
		}
	}
}
