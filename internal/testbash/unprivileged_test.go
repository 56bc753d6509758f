//go:build linux

package testbash

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestInterceptionUnprivileged repeats the core checks as uid/gid 65534: the
// wrapper comes from the startup environment whoever runs the shell.
func TestInterceptionUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch to uid 65534")
	}
	src := Path(t)
	// t.TempDir's parent is private to root; uid 65534 needs a path it can walk.
	dir, err := os.MkdirTemp("", "testbash-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Copy the Bash: the repository may sit under a directory nobody cannot
	// enter (e.g. /root in CI).
	body, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	bash := filepath.Join(dir, "bash")
	if err := os.WriteFile(bash, body, 0o755); err != nil {
		t.Fatal(err)
	}
	wrapper, logPath := newWrapper(t, dir, "wrap")
	if err := os.WriteFile(logPath, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(logPath, 0o666); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, script, stdout string
		code                 int
		logged               []string
	}{
		{"and-list", `/bin/true && /bin/echo x; :`, "x\n", 0,
			[]string{"/bin/true /bin/true", "/bin/echo /bin/echo x"}},
		{"unset", `unset EXEC_WRAPPER BASH_EXEC_WRAPPER; /bin/echo hi`, "hi\n", 0,
			[]string{"/bin/echo /bin/echo hi"}},
		{"id", `/usr/bin/id -u`, "65534\n", 0,
			[]string{"/usr/bin/id /usr/bin/id -u"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.Truncate(logPath, 0); err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(t.Context(), bash, "-c", tc.script)
			cmd.Dir = dir
			cmd.Env = baseEnv(dir, "EXEC_WRAPPER="+wrapper)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || string(out) != tc.stdout {
				t.Fatalf("got stdout %q, err %v (stderr %q), want %q", out, err, stderr.String(), tc.stdout)
			}
			if got := logLines(t, logPath); !slices.Equal(got, tc.logged) {
				t.Errorf("wrapper saw %q, want %q", got, tc.logged)
			}
		})
	}
}
