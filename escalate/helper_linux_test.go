package escalate

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/execgate/execgate/internal/frame"
	"golang.org/x/sys/unix"
)

// Some properties need a server process the test does not run in: one
// whose stdio is closed (so received fds collide with 0..2), or one that
// runs unprivileged. The test binary re-runs itself as such a server
// (TestHelperServer), which hands the test its session's child end over
// fd 3 and serves until the test closes that socket.

const helperEnv = "ESCALATE_HELPER_SERVER"

func TestHelperServer(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper process for the tests that need a separate server")
	}
	logf, err := os.OpenFile(os.Getenv(helperEnv+"_LOG"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		os.Exit(3)
	}
	const ctl = 3
	// "identity": stdio arrives as exactly 0, 1, 2; "shifted": as 1, 2 and
	// a higher fd, so each must move down by one. OnDecision runs after the
	// workdir is opened and right before Escalate is sent, so the next fds
	// this process gets are the stdio.
	var toClose []int
	switch mode {
	case "identity":
		toClose = []int{0, 1, 2}
	case "shifted":
		toClose = []int{1, 2}
	}
	s, err := NewSession(fixed(Escalate, ""), Options{
		Logger: slog.New(slog.NewTextHandler(logf, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnDecision: func(Record) {
			for _, fd := range toClose {
				unix.Close(fd)
			}
		},
	})
	if err != nil {
		os.Exit(3)
	}
	if err := frame.Write(ctl, []byte("child"), []int{int(s.ChildFile().Fd())}); err != nil {
		os.Exit(3)
	}
	s.CloseChild()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		frame.Read(ctl)
		cancel()
	}()
	if err := s.Serve(ctx); err != nil {
		os.Exit(4)
	}
	os.Exit(0)
}

// helperServer starts TestHelperServer in mode, optionally with cred, and
// returns a session client for it and a function returning its log.
func helperServer(t *testing.T, mode string, cred *syscall.Credential) (*testSession, func() string) {
	t.Helper()
	dir := t.TempDir()
	bin := os.Args[0]
	if cred != nil {
		// The build directory is private to root: give the helper a copy of
		// the test binary it can execute, and a log it can write.
		for _, d := range []string{filepath.Dir(dir), dir} {
			os.Chmod(d, 0o755)
		}
		bin = filepath.Join(dir, "helper.test")
		copyFile(t, os.Args[0], bin, 0o755)
	}
	logPath := filepath.Join(dir, "helper.log")
	if err := os.WriteFile(logPath, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	os.Chmod(logPath, 0o666)
	readLog := func() string {
		b, _ := os.ReadFile(logPath)
		return string(b)
	}

	pair, err := frame.Socketpair(unix.SOCK_STREAM)
	if err != nil {
		t.Fatal(err)
	}
	ours := pair[0]
	// The os.File owns the helper's end (its finalizer would otherwise close
	// the number later, whatever it has become by then).
	ctl := os.NewFile(uintptr(pair[1]), "ctl")
	cmd := exec.Command(bin, "-test.run=^TestHelperServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperEnv+"_LOG="+logPath, "GORACE=atexit_sleep_ms=0")
	cmd.ExtraFiles = []*os.File{ctl}
	cmd.Dir = dir
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Start()
	ctl.Close()
	if err != nil {
		unix.Close(ours)
		t.Fatal(err)
	}
	ts := &testSession{child: -1, helper: cmd.Process}
	t.Cleanup(func() {
		if ts.child >= 0 {
			unix.Close(ts.child)
		}
		unix.Shutdown(ours, unix.SHUT_RDWR)
		unix.Close(ours)
		if err := cmd.Wait(); err != nil && !ts.helperKilled {
			t.Errorf("helper server: %v\n%s", err, out.String())
		}
		if t.Failed() {
			t.Logf("helper log:\n%s", readLog())
		}
	})
	_, fds, err := frame.Read(ours)
	if err != nil || len(fds) != 1 {
		t.Fatalf("child end from the helper: %v %v\n%s", fds, err, out.String())
	}
	ts.child = fds[0]
	return ts, readLog
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestEscalateOverlappingFds(t *testing.T) {
	tests := []struct{ mode, wantStdio string }{
		{"identity", `stdio="[0 1 2]"`},
		{"shifted", `stdio="[1 2 `},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			ts, readLog := helperServer(t, tc.mode, nil)
			escalateStdioOnly(t, ts)
			if log := readLog(); !strings.Contains(log, tc.wantStdio) {
				t.Errorf("helper did not receive stdio as %s; log:\n%s", tc.wantStdio, log)
			}
		})
	}
}

// TestUnprivilegedServer runs the server as nobody: escalated commands run
// with the server's identity (not root), the workdir re-check happens with
// that identity, and a workdir it cannot reach is denied before anything
// runs.
func TestUnprivilegedServer(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to switch to uid 65534")
	}
	ts, _ := helperServer(t, "plain", &syscall.Credential{Uid: 65534, Gid: 65534})
	res, out, _ := ts.escalate(t, shReq("id -u; id -g", nil), "").wait()
	if res.ExitCode != 0 || out != "65534\n65534\n" {
		t.Fatalf("escalated id printed %q (exit %d), want the server's uid/gid 65534", out, res.ExitCode)
	}
	private := filepath.Join(t.TempDir(), "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	got := ts.decide(t, Request{File: "/bin/pwd", Argv: []string{"pwd"}, Workdir: filepath.Join(private, "sub")})
	if got.Action != Deny || !strings.Contains(got.Reason, "permission denied") || !strings.Contains(got.Reason, private) {
		t.Fatalf("unreachable workdir: %+v, want a Deny naming it", got)
	}
	res, out, _ = ts.escalate(t, shReq("ls /proc/self/fd | wc -l", nil), "").wait()
	if res.ExitCode != 0 || strings.TrimSpace(out) != "4" {
		t.Fatalf("fds of an unprivileged server's escalated ls: %q", out)
	}
}
