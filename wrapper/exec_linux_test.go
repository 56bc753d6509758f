package wrapper_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// writeFile creates name in dir with the given content and mode.
func writeFile(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// bashOutcome runs `bash -c SCRIPT` in dir, without any wrapper.
func bashOutcome(t *testing.T, dir, script string, cred *syscall.Credential) outcome {
	t.Helper()
	cmd := exec.Command("/bin/bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	return outcome{stdout: stdout.String(), stderr: stderr.String(), status: cmd.ProcessState.Sys().(syscall.WaitStatus)}
}

// TestExecErrorsLikeBash makes execve fail in each way Bash distinguishes and
// wants Bash's status and message (Bash's line is "bash: " + ours).
func TestExecErrorsLikeBash(t *testing.T) {
	dir := t.TempDir()
	// Let uid 65534 reach the files (t.TempDir makes 0700 directories).
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, dir, "noexec", "echo should not run\n", 0o644)
	writeFile(t, dir, "rootonly", "#!/bin/sh\necho should not run\n", 0o700)
	writeFile(t, dir, "badinterp", "#!/nonexistent/interp -x\necho should not run\n", 0o755)
	writeFile(t, dir, "crlf", "#!/bin/sh\r\necho should not run\n", 0o755)
	writeFile(t, dir, "interp-noexec", "#!"+filepath.Join(dir, "noexec")+"\necho should not run\n", 0o755)
	writeFile(t, dir, "fakeelf", "\x7fELF\x02\x01\x01", 0o755)
	writeFile(t, dir, "nul", "ab\x00cd\necho should not run\n", 0o755)
	writeFile(t, dir, "nul-line2", "#!\nab\x00cd\n", 0o755)
	writeFile(t, dir, "empty", "", 0o755)
	if err := os.Mkdir(filepath.Join(dir, "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nowhere", filepath.Join(dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534}

	tests := []struct {
		file   string
		cred   *syscall.Credential
		status int
	}{
		{file: "./missing", status: 127},
		{file: "./dangling", status: 127},
		{file: "./noexec", status: 126},
		{file: "./rootonly", cred: nobody, status: 126},
		{file: "./subdir", status: 126},
		{file: "./noexec/below", status: 126},
		{file: "./badinterp", status: 127},
		{file: "./crlf", status: 127},
		{file: "./interp-noexec", status: 126},
		{file: "./fakeelf", status: 126},
		{file: "./nul", status: 126},
		{file: "./nul-line2", status: 126},
		{file: "./empty", status: 0},
	}
	for _, tt := range tests {
		name := tt.file
		if tt.cred != nil {
			name += " as nobody"
		}
		t.Run(name, func(t *testing.T) {
			want := bashOutcome(t, dir, tt.file, tt.cred)
			if want.status.ExitStatus() != tt.status {
				t.Fatalf("bash itself: %s, want exit %d", want, tt.status)
			}
			s := newServer(t, runAlways)
			cmd := proc{argv: []string{tt.file, tt.file}, dir: dir}.command(s, true)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: tt.cred}
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.Run()
			got := outcome{stdout: stdout.String(), stderr: stderr.String(), status: cmd.ProcessState.Sys().(syscall.WaitStatus)}
			// Bash starts the line with its name and, under -c, "line 1: ",
			// which the wrapper cannot know; the rest must be identical.
			bashLine := strings.TrimPrefix(strings.TrimPrefix(want.stderr, "/bin/bash: "), "line 1: ")
			if got.status != want.status || got.stdout != want.stdout || got.stderr != bashLine {
				t.Errorf("through the wrapper:\n got %s\nbash %s", got, want)
			}
			if len(s.seen()) != 1 {
				t.Errorf("server saw %d requests, want 1", len(s.seen()))
			}
		})
	}
}

// TestScriptWithoutShebang: execve says ENOEXEC and the wrapper runs the file
// as a Bash script, as Bash would.
func TestScriptWithoutShebang(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "script", "echo \"$0|$*|$BASH\"\nexit 7\n", 0o755)
	writeFile(t, dir, "-dash", "echo \"$0|$*\"\n", 0o755)
	mybash := filepath.Join(dir, "mybash")
	if err := os.Symlink("/bin/bash", mybash); err != nil {
		t.Fatal(err)
	}
	parentBash, err := filepath.EvalSymlinks("/bin/bash")
	if err != nil {
		t.Fatal(err)
	}
	want := bashOutcome(t, dir, "./script a 'b c'; exit $?", nil)
	if want.stdout != "./script|a b c|/bin/bash\n" || want.status.ExitStatus() != 7 {
		t.Fatalf("bash itself: %s", want)
	}

	tests := []struct {
		name string
		p    proc
		// viaBash starts the wrapper from a Bash, as the patched Bash does.
		viaBash bool
		want    string
		status  int
	}{
		{name: "EXECGATE_BASH", p: proc{argv: []string{"./script", "./script", "a", "b c"}, env: []string{"EXECGATE_BASH=" + mybash}}, want: "./script|a b c|" + mybash + "\n", status: 7},
		{name: "default bash", p: proc{argv: []string{"./script", "./script", "a", "b c"}}, want: "./script|a b c|/bin/bash\n", status: 7},
		{name: "parent bash", viaBash: true, p: proc{argv: []string{"./script", "./script", "a", "b c"}, env: []string{"EXECGATE_BASH=/nonexistent"}}, want: "./script|a b c|" + parentBash + "\n", status: 7},
		{name: "file name starting with a dash", p: proc{argv: []string{"-dash", "-dash", "x"}}, want: "-dash|x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, runAlways)
			tt.p.dir = dir
			cmd := tt.p.command(s, true)
			if tt.viaBash {
				// "; exit" keeps Bash from exec'ing the wrapper in its place.
				cmd.Args = append([]string{"/bin/bash", "-c", `"$@"; exit $?`, "bash"}, cmd.Args...)
				cmd.Path = "/bin/bash"
			}
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.Run()
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if stdout.String() != tt.want || ws.ExitStatus() != tt.status || stderr.Len() > 0 {
				t.Errorf("got exit %d stdout %q stderr %q, want exit %d stdout %q", ws.ExitStatus(), stdout.String(), stderr.String(), tt.status, tt.want)
			}
		})
	}
}
