package escalate

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The received stdio fds can only collide with 0..2 in a server whose own
// stdio is closed. The test binary re-runs itself as such a server
// (TestOverlapHelper), hands the test the session's child end over fd 3, and
// closes its stdio just before it answers Escalate, so the three fds it then
// receives land on the numbers they must be moved to: exactly 0, 1, 2
// (identity) or 1, 2, N (each must move down by one).

const overlapHelperEnv = "ESCALATE_OVERLAP_HELPER"

func TestOverlapHelper(t *testing.T) {
	mode := os.Getenv(overlapHelperEnv)
	if mode == "" {
		t.Skip("helper process for TestEscalateOverlappingFds")
	}
	logf, err := os.Create(os.Getenv(overlapHelperEnv + "_LOG"))
	if err != nil {
		os.Exit(3)
	}
	ctl := 3
	var close []int
	switch mode {
	case "identity": // stdio arrives as 0, 1, 2
		close = []int{0, 1, 2}
	case "shifted": // stdio arrives as 1, 2 and some higher fd
		close = []int{1, 2}
	}
	// OnDecision runs after the workdir is opened and right before the
	// answer is sent, so the next fds this process gets are the stdio.
	onDecision := func(Record) {
		for _, fd := range close {
			unix.Close(fd)
		}
	}
	s, err := NewSession(fixed(Escalate, ""), Options{
		Logger:     slog.New(slog.NewTextHandler(logf, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnDecision: onDecision,
	})
	if err != nil {
		os.Exit(3)
	}
	if err := WriteFrame(ctl, []byte("child"), []int{int(s.ChildFile().Fd())}); err != nil {
		os.Exit(3)
	}
	s.CloseChild()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		ReadFrame(ctl) // the test closes its end when done
		cancel()
	}()
	if err := s.Serve(ctx); err != nil {
		os.Exit(4)
	}
	os.Exit(0)
}

func TestEscalateOverlappingFds(t *testing.T) {
	tests := []struct{ mode, wantStdio string }{
		{"identity", "stdio=\"[0 1 2]\""},
		{"shifted", "stdio=\"[1 2 "},
	}
	for _, tc := range tests {
		mode := tc.mode
		t.Run(mode, func(t *testing.T) {
			pair, err := socketpair(unix.SOCK_STREAM)
			if err != nil {
				t.Fatal(err)
			}
			ours := pair[0]
			defer unix.Close(ours)
			// The os.File owns the helper's end from here on (its finalizer
			// would close the number otherwise, whatever it has become).
			ctl := os.NewFile(uintptr(pair[1]), "ctl")
			defer ctl.Close()
			logPath := filepath.Join(t.TempDir(), "helper.log")
			cmd := exec.Command(os.Args[0], "-test.run=^TestOverlapHelper$", "-test.count=1")
			cmd.Env = append(os.Environ(), overlapHelperEnv+"="+mode, overlapHelperEnv+"_LOG="+logPath, "GORACE=atexit_sleep_ms=0")
			cmd.ExtraFiles = []*os.File{ctl}
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			ctl.Close()
			defer func() {
				unix.Shutdown(ours, unix.SHUT_RDWR)
				if err := cmd.Wait(); err != nil {
					t.Errorf("helper: %v\n%s", err, out.String())
				}
				if t.Failed() {
					b, _ := os.ReadFile(logPath)
					t.Logf("helper log:\n%s", b)
				}
			}()
			_, fds, err := ReadFrame(ours)
			if err != nil || len(fds) != 1 {
				t.Fatalf("child end from the helper: %v %v", fds, err)
			}
			defer unix.Close(fds[0])
			ts := &testSession{child: fds[0]}
			fd, resp := ts.ask(t, shReq(fdListing, nil))
			if resp.Action != Escalate {
				t.Fatalf("answer %+v", resp)
			}
			r, inodes := superExecWithInodes(t, fd, "ping\n")
			res, stdout, stderr := r.wait()
			if res.ExitCode != 0 || !strings.HasPrefix(stdout, "out:ping\n") || stderr != "err:ping\n" {
				t.Fatalf("exit %d stdout %q stderr %q", res.ExitCode, stdout, stderr)
			}
			checkStdioOnly(t, stdout, inodes)
			b, _ := os.ReadFile(logPath)
			if !strings.Contains(string(b), tc.wantStdio) {
				t.Errorf("helper did not receive stdio as %s; log:\n%s", tc.wantStdio, b)
			}
		})
	}
}
