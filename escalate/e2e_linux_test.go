package escalate_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/testbash"
	"github.com/execgate/execgate/internal/testbin"
)

// End to end: the patched Bash, the real execve wrapper and a Session, with
// a scripted Decider standing in for the policy.

// buildWrapper builds execgate and links it as codex-execve-wrapper, the
// name that selects the wrapper role.
func buildWrapper(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "codex-execve-wrapper")
	if err := os.Symlink(testbin.Must(t, testbin.Execgate), path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestEndToEndWithWrapper(t *testing.T) {
	bash := testbash.Path(t)
	wrapper := buildWrapper(t)
	dir := t.TempDir()

	var mu sync.Mutex
	var records []escalate.Record
	decide := escalate.DeciderFunc(func(_ context.Context, e escalate.Exec) escalate.Decision {
		switch filepath.Base(e.File) {
		case "false":
			return escalate.Decision{Action: escalate.Deny, Reason: "no false here"}
		case "env", "sh", "cat":
			return escalate.Decision{Action: escalate.Escalate}
		}
		return escalate.Decision{Action: escalate.Run}
	})
	// X is passed from the shell: it stands for an allowed variable.
	envPolicy, err := escalate.NewEnvPolicy(nil, []string{"X"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := escalate.NewSession(decide, escalate.Options{Env: envPolicy, OnDecision: func(r escalate.Record) {
		mu.Lock()
		records = append(records, r)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	}()

	// The escalated sh traps TERM and says when it is ready; the wrapper
	// (the background job) gets the TERM and must forward it.
	script := `
/bin/true && echo run-ok
/bin/false; echo "deny=$?"
X=1 BASH_ENV=/tmp/rc LD_PRELOAD=/nonexistent.so /usr/bin/env | /bin/grep -E '^(X|BASH_ENV|LD_PRELOAD|EXEC_WRAPPER|BASH_EXEC_WRAPPER|CODEX_ESCALATE_SOCKET)='
/bin/sh -c 'exit 7'; echo "exit=$?"
/bin/sh -c 'kill -TERM $$'; echo "signal=$?"
echo piped | /bin/cat | /bin/cat
/bin/sh -c 'trap "echo got-term; exit 5" TERM; : >ready; while :; do /bin/sleep 0.01; done' & pid=$!
while [ ! -e ready ]; do /bin/sleep 0.01; done
kill -TERM $pid; wait $pid; echo "forwarded=$?"
`
	cmd := exec.Command(bash, "-c", script)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "LC_ALL=C", "HOME=" + dir}, escalate.ShellEnv(3, wrapper)...)
	cmd.ExtraFiles = []*os.File{s.ChildFile()}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.CloseChild()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("bash: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	want := "run-ok\ndeny=1\nX=1\nexit=7\nsignal=143\npiped\ngot-term\nforwarded=5\n"
	if stdout.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s\nstderr:\n%s", stdout.String(), want, stderr.String())
	}
	if !strings.Contains(stderr.String(), "Execution denied: no false here") {
		t.Errorf("stderr %q lacks the denial", stderr.String())
	}

	mu.Lock()
	defer mu.Unlock()
	var got []string
	for _, r := range records {
		got = append(got, r.Exec.File+" "+r.Decision.Action.String())
	}
	for _, w := range []string{"/bin/true run", "/bin/false deny", "/usr/bin/env escalate", "/bin/grep run", "/bin/sh escalate", "/bin/cat escalate"} {
		if !slices.Contains(got, w) {
			t.Errorf("decisions %q lack %q", got, w)
		}
	}
}

// TestMain removes the binaries the tests built. The test binary also plays
// the sessions' reaper (Options.Reaper defaults to this executable).
func TestMain(m *testing.M) {
	if len(os.Args) == 2 && os.Args[1] == escalate.ReaperRole {
		os.Exit(escalate.ReaperMain(nil))
	}
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}
