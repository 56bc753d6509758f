package sandbox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/execgate/execgate/internal/testhelp"
)

// usedSpare reports whether cmd is a spare helper that took the call.
func usedSpare(cmd *exec.Cmd) bool { return slices.Contains(cmd.Args, spareArg) }

// idleSpare returns the pool's idle spare for spec's kind, waiting for it.
func idleSpare(t *testing.T, l *Launcher, spec Spec) *spare {
	t.Helper()
	if err := waitForSpare(l, spec); err != nil {
		t.Fatal(err)
	}
	h, err := l.helperSpec(spec, []string{"-"})
	if err != nil {
		t.Fatal(err)
	}
	l.spares.mu.Lock()
	defer l.spares.mu.Unlock()
	return l.spares.idle[kindIndex(h.Namespaces)]
}

// spareLaunchers: one launcher per helper kind this machine supports.
func spareLaunchers(t *testing.T) map[string]*Launcher {
	base := NewLauncher(nil, NamespaceLauncher(testNsexec(t)))
	out := map[string]*Launcher{}
	for _, ns := range []bool{false, true} {
		if ns && !base.caps.Namespaces {
			continue
		}
		l := &Launcher{caps: base.caps, nsexec: base.nsexec}
		l.caps.Namespaces = ns
		t.Cleanup(l.Close)
		out["ns="+strconv.FormatBool(ns)] = l
	}
	return out
}

// TestSpareActivation: a spare runs the call with the call's environment,
// working directory, stdio (blocking, as a started helper's would be) and
// escalate socket on fd 3, and a new spare is ready afterwards.
func TestSpareActivation(t *testing.T) {
	for name, l := range spareLaunchers(t) {
		t.Run(name, func(t *testing.T) {
			ws := t.TempDir()
			spec := Spec{Policy: Policy{Mode: WorkspaceWrite}, Workspace: ws}
			l.Prepare(spec)
			first := idleSpare(t, l, spec)
			env, err := os.ReadFile("/proc/" + strconv.Itoa(first.cmd.Process.Pid) + "/environ")
			if err != nil {
				t.Fatal(err)
			}
			for _, kv := range strings.Split(strings.TrimRight(string(env), "\x00"), "\x00") {
				if kv != "" && !strings.HasPrefix(kv, "GO") {
					t.Errorf("idle spare has %q from the server's environment", kv)
				}
			}

			sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			ours, theirs := os.NewFile(uintptr(sp[0]), "ours"), os.NewFile(uintptr(sp[1]), "theirs")
			defer ours.Close()
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			script := `echo "var=$EG_SPARE_VAR pwd=$PWD"
grep '^flags' /proc/self/fdinfo/1
echo via-fd3 >&3
touch ok`
			cmd, err := l.Start(context.Background(), spec, []string{"/bin/bash", "-c", script},
				Proc{Dir: ws, Env: []string{"PATH=/usr/bin:/bin", "EG_SPARE_VAR=x y", "GORACE=" + os.Getenv("GORACE")}, Stdout: pw, Stderr: pw, Extra: theirs})
			pw.Close()
			theirs.Close()
			if err != nil {
				t.Fatal(err)
			}
			if !usedSpare(cmd) || cmd.Process.Pid != first.cmd.Process.Pid {
				t.Fatalf("the call did not run in the idle spare %d: %v", first.cmd.Process.Pid, cmd.Args)
			}
			out, _ := io.ReadAll(pr)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("%v:\n%s", err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != 2 || lines[0] != "var=x y pwd="+ws {
				t.Fatalf("output:\n%s", out)
			}
			flags, err := strconv.ParseUint(strings.Fields(lines[1])[1], 8, 64)
			if err != nil || flags&unix.O_NONBLOCK != 0 {
				t.Errorf("stdout flags %q: want blocking", lines[1])
			}
			got := make([]byte, 64)
			n, _ := ours.Read(got)
			if string(got[:n]) != "via-fd3\n" {
				t.Errorf("fd 3 carried %q", got[:n])
			}
			if _, err := os.Stat(ws + "/ok"); err != nil {
				t.Errorf("write in the workspace: %v", err)
			}
			l.Prepare(spec)
			if next := idleSpare(t, l, spec); next == first {
				t.Errorf("Prepare after the call made no new spare")
			}
		})
	}
}

// TestSpareConfines: the spare applies the call's confinement, not none:
// a write outside the roots fails, in every kind.
func TestSpareConfines(t *testing.T) {
	outside := t.TempDir()
	if err := os.Chmod(outside, 0o777); err != nil {
		t.Fatal(err)
	}
	for name, l := range spareLaunchers(t) {
		t.Run(name, func(t *testing.T) {
			spec := Spec{Policy: Policy{Mode: WorkspaceWrite, ExcludeSlashTmp: true, ExcludeTmpdirEnvVar: true}, Workspace: t.TempDir()}
			l.Prepare(spec)
			idleSpare(t, l, spec)
			cmd, err := l.Start(context.Background(), spec, []string{"/bin/bash", "-c", "touch " + outside + "/x"}, Proc{})
			if err != nil {
				t.Fatal(err)
			}
			if !usedSpare(cmd) {
				t.Fatalf("no spare used")
			}
			if err := cmd.Wait(); err == nil {
				t.Errorf("write outside the writable roots succeeded")
			}
			if _, err := os.Stat(outside + "/x"); err == nil {
				t.Errorf("file created outside the writable roots")
			}
		})
	}
}

// TestDeadSpareFallsBack: a spare that died while idle is not used; the
// call starts a helper as usual and runs.
func TestDeadSpareFallsBack(t *testing.T) {
	for name, l := range spareLaunchers(t) {
		t.Run(name, func(t *testing.T) {
			spec := Spec{Policy: Policy{Mode: WorkspaceWrite}, Workspace: t.TempDir()}
			l.Prepare(spec)
			s := idleSpare(t, l, spec)
			if err := s.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(5 * time.Second); s.alive(); time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("killed spare still looks alive")
				}
			}
			cmd, err := l.Start(context.Background(), spec, []string{"/bin/bash", "-c", "exit 7"}, Proc{})
			if err != nil {
				t.Fatal(err)
			}
			if usedSpare(cmd) {
				t.Errorf("the dead spare was used")
			}
			var ee *exec.ExitError
			if err := cmd.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 7 {
				t.Errorf("exit: %v, want 7", err)
			}
		})
	}
}

// TestCloseEndsSpares: Close ends the idle spares (nothing of the server
// outlives it) and no new ones are made.
func TestCloseEndsSpares(t *testing.T) {
	for name, l := range spareLaunchers(t) {
		t.Run(name, func(t *testing.T) {
			spec := Spec{Policy: Policy{Mode: WorkspaceWrite}, Workspace: t.TempDir()}
			l.Prepare(spec)
			pid := idleSpare(t, l, spec).cmd.Process.Pid
			l.Close()
			for deadline := time.Now().Add(5 * time.Second); syscall.Kill(pid, 0) == nil; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("spare %d alive after Close", pid)
				}
			}
			// What Prepare runs in the background, here synchronously:
			// a spare made anyway would be in the pool when it returns.
			l.refill(l.caps.Namespaces)
			l.spares.mu.Lock()
			idle := l.spares.idle
			l.spares.mu.Unlock()
			if idle != [2]*spare{} {
				t.Errorf("spares made after Close: %v", idle)
			}
		})
	}
}

// planPayload is the plan of h running argv.
func planPayload(h helperSpec, argv ...string) string { return string(encodePlan(h, argv, nil, "")) }

// TestSpareRejectsBadActivation: the spare role fails closed on an
// activation it cannot use, running nothing.
func TestSpareRejectsBadActivation(t *testing.T) {
	program := filterBytes([]bpf.RawInstruction{{Op: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW}})
	sandboxed := func(seccomp []byte) string {
		return planPayload(helperSpec{Mode: ReadOnly, Seccomp: seccomp}, "/bin/true")
	}
	ok := planPayload(helperSpec{Mode: DangerFullAccess}, "/bin/true")
	for _, tc := range []struct {
		name    string
		payload string // "" sends no plan: the first call file is in its place
		nfiles  int
		want    string
	}{
		{"garbage", "{", 3, "bad activation"},
		{"cut short", ok[:20], 3, "bad activation"},
		{"two files", ok, 2, "with 2 files for the call"},
		{"no plan", "", 4, "not a plan"},
		{"no command", planPayload(helperSpec{Mode: DangerFullAccess}), 3, "without a command"},
		{"no seccomp program", sandboxed(nil), 3, "bad spec: seccomp filter: no program"},
		{"cut seccomp program", sandboxed(program[:len(program)-3]), 3, "not a whole number of 8-byte instructions"},
		{"seccomp program too long", sandboxed(bytes.Repeat(program, maxFilterLen+1)), 3, "more than the kernel's 4096"},
		{"gate program missing", planPayload(helperSpec{Mode: ReadOnly, Seccomp: program, Gate: true}, "/bin/true"), 3, "bad spec: kernel gate filter: no program"},
		{"no ruleset", planPayload(helperSpec{Mode: ReadOnly, Seccomp: program}, "/bin/true"), 3, "without its Landlock ruleset"},
		{"ns outside a pid namespace", planPayload(helperSpec{Mode: DangerFullAccess, Namespaces: true}, "/bin/true"), 3, "not the child of pid 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			child := os.NewFile(uintptr(sp[1]), "spare-control")
			cmd := exec.Command(testNsexec(t), "--no-ns", spareArg)
			out := &strings.Builder{}
			cmd.ExtraFiles = []*os.File{child}
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			// Where the spare reports before it has the call's files.
			cmd.Stderr = pw
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			child.Close()
			// As the server does: wait for the spare to be ready.
			if err := (&spare{ctl: sp[0]}).awaitReady(); err != nil {
				t.Fatal(err)
			}
			files := []int{int(pw.Fd()), int(pw.Fd()), int(pw.Fd()), int(pw.Fd())}[:tc.nfiles]
			if tc.payload == "" {
				err = unix.Sendmsg(sp[0], []byte{activationMsg}, unix.UnixRights(files...), nil, 0)
			} else {
				memfd, ferr := activationFD([]byte(tc.payload))
				if ferr != nil {
					t.Fatal(ferr)
				}
				err = sendActivation(sp[0], memfd, files)
				unix.Close(memfd)
			}
			if err != nil {
				t.Fatal(err)
			}
			pw.Close()
			unix.Close(sp[0])
			b, _ := io.ReadAll(pr)
			out.Write(b)
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitSetup || !strings.Contains(out.String(), tc.want) {
				t.Errorf("exit %v, output %q; want %d and %q", err, out, exitSetup, tc.want)
			}
		})
	}
}

// TestSpareDroppedAfterMountChange: a spare with namespaces carries the
// mount table of when it started; after the server's mount table changes
// it is not used, and a call in the newly mounted tree runs (in a helper
// started for it). A spare without namespaces shares the server's table
// and stays usable.
func TestSpareDroppedAfterMountChange(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
	for name, l := range spareLaunchers(t) {
		t.Run(name, func(t *testing.T) {
			spec := Spec{Policy: Policy{Mode: WorkspaceWrite}, Workspace: t.TempDir()}
			l.Prepare(spec)
			idleSpare(t, l, spec)
			mnt := t.TempDir()
			if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m"); err != nil {
				t.Skipf("mount tmpfs: %v", err)
			}
			t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
			if err := os.WriteFile(mnt+"/marker", []byte("on the new mount\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			spec.Workspace = mnt
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			cmd, err := l.Start(context.Background(), spec, []string{"/bin/bash", "-c", "cat marker && touch new"}, Proc{Dir: mnt, Stdout: pw, Stderr: pw})
			pw.Close()
			if err != nil {
				t.Fatal(err)
			}
			out, _ := io.ReadAll(pr)
			if err := cmd.Wait(); err != nil || string(out) != "on the new mount\n" {
				t.Errorf("%v: %q", err, out)
			}
			if ns := strings.HasPrefix(name, "ns=true"); usedSpare(cmd) == ns {
				t.Errorf("spare from before the mount used: %v, want %v", usedSpare(cmd), !ns)
			}
			// The next spare is fresh: used again.
			l.Prepare(spec)
			idleSpare(t, l, spec)
			cmd, err = l.Start(context.Background(), spec, []string{"/bin/true"}, Proc{Dir: mnt})
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil || !usedSpare(cmd) {
				t.Errorf("fresh spare: used %v, %v", usedSpare(cmd), err)
			}
		})
	}
}

// TestSpareKeptAfterTransientMount: a mount made and undone while a spare
// waited leaves the table as the spare copied it: the spare is used.
func TestSpareKeptAfterTransientMount(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
	for name, l := range spareLaunchers(t) {
		t.Run(name, func(t *testing.T) {
			spec := Spec{Policy: Policy{Mode: WorkspaceWrite}, Workspace: t.TempDir()}
			l.Prepare(spec)
			idleSpare(t, l, spec)
			mnt := t.TempDir()
			if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m"); err != nil {
				t.Skipf("mount tmpfs: %v", err)
			}
			if err := unix.Unmount(mnt, 0); err != nil {
				t.Fatal(err)
			}
			cmd, err := l.Start(context.Background(), spec, []string{"/bin/true"}, Proc{})
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil || !usedSpare(cmd) {
				t.Errorf("spare used %v (%v), want it used", usedSpare(cmd), err)
			}
		})
	}
}

// TestSpareNotReadyNotPooled: a spare that never says it is ready (here a
// binary that is not the launcher) never enters the pool.
func TestSpareNotReadyNotPooled(t *testing.T) {
	l := &Launcher{nsexec: "/bin/true"}
	defer l.Close()
	// What Prepare runs in the background, here synchronously: the
	// attempt is over when it returns, however slow the machine.
	l.refill(false)
	l.spares.mu.Lock()
	idle, starting := l.spares.idle, l.spares.starting
	l.spares.mu.Unlock()
	if idle != [2]*spare{} {
		t.Fatalf("a spare that never got ready is in the pool: %v", idle)
	}
	if starting != [2]chan struct{}{} {
		t.Fatalf("still marked as starting after the attempt: %v", starting)
	}
}

// TestStartWaitsForStartingSpare: a call that comes while the spare is
// still starting takes it once ready, rather than starting its own helper.
//
// The launcher is a script that waits at a gate (a FIFO it opens for
// reading, which blocks until the test opens it) before it execs the real
// launcher, and logs each start. The spare therefore stays "starting" for as
// long as the test holds the gate, however fast or slow the machine is; a
// helper the call started for itself would show as a second start.
func TestStartWaitsForStartingSpare(t *testing.T) {
	for name, base := range spareLaunchers(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			gate, starts := dir+"/gate", dir+"/starts"
			if err := unix.Mkfifo(gate, 0o600); err != nil {
				t.Fatal(err)
			}
			gated := dir + "/launcher"
			script := "#!/bin/sh\necho start >>" + starts + "\n: <" + gate + "\nexec " + base.nsexec + ` "$@"` + "\n"
			if err := os.WriteFile(gated, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			l := &Launcher{caps: base.caps, nsexec: gated}
			t.Cleanup(l.Close)
			spec := Spec{Policy: Policy{Mode: WorkspaceWrite}, Workspace: t.TempDir()}
			// The product waits 50 ms; the gate is held longer than
			// that, and this test is about waiting.
			l.spares.wait = time.Minute
			l.Prepare(spec)
			// The spare is starting once its script has logged.
			awaitSpareStart(t, starts)
			// Open the gate (O_RDWR does not wait for a reader) a
			// while after the call has begun waiting; kept open, it
			// lets any later start through at once.
			const hold = 200 * time.Millisecond
			begin := time.Now()
			opened := make(chan *os.File, 1)
			time.AfterFunc(hold, func() {
				f, err := os.OpenFile(gate, os.O_RDWR, 0)
				if err != nil {
					t.Error(err)
				}
				opened <- f
			})
			defer func() {
				if f := <-opened; f != nil {
					f.Close()
				}
			}()
			cmd, err := l.Start(context.Background(), spec, []string{"/bin/true"}, Proc{})
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil || !usedSpare(cmd) {
				t.Errorf("spare used %v (%v), want the starting spare used", usedSpare(cmd), err)
			}
			if waited := time.Since(begin); waited < hold {
				t.Errorf("the call ran after %v, before the spare was let through (%v)", waited, hold)
			}
			if b, _ := os.ReadFile(starts); strings.Count(string(b), "start") != 1 {
				t.Errorf("helper starts: %q, want only the spare's", b)
			}
		})
	}
}

// TestSpareStartWaitsParked: while a spare starts, the server waits for its
// ready byte parked in the netpoller, not with a thread blocked in poll(2),
// which kept the Go runtime's monitor waking every 20 µs for as long as
// the spare took (internal/parked). The spare is held at a gate as in
// TestStartWaitsForStartingSpare.
func TestSpareStartWaitsParked(t *testing.T) {
	dir := t.TempDir()
	gate, starts := dir+"/gate", dir+"/starts"
	if err := unix.Mkfifo(gate, 0o600); err != nil {
		t.Fatal(err)
	}
	gated := dir + "/launcher"
	script := "#!/bin/sh\necho start >>" + starts + "\n: <" + gate + "\nexec " + testNsexec(t) + ` "$@"` + "\n"
	if err := os.WriteFile(gated, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	base := NewLauncher(nil, NamespaceLauncher(testNsexec(t)))
	l := &Launcher{caps: base.caps, nsexec: gated}
	l.caps.Namespaces = false
	t.Cleanup(l.Close)
	spec := Spec{Policy: Policy{Mode: WorkspaceWrite}, Workspace: t.TempDir()}
	l.Prepare(spec)
	awaitSpareStart(t, starts)
	// The spare is held: whatever state the waiting goroutine is in now,
	// it stays in while the gate is shut.
	var state string
	for deadline := time.Now().Add(10 * time.Second); state == "" || strings.HasPrefix(state, "running"); time.Sleep(10 * time.Millisecond) {
		state = testhelp.GoroutineState("(*spare).awaitReady")
		if time.Now().After(deadline) {
			t.Fatal("no goroutine seen waiting for the spare")
		}
	}
	gateFile, err := os.OpenFile(gate, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer gateFile.Close()
	if strings.HasPrefix(state, "syscall") {
		t.Errorf("waiting for the spare, the goroutine was in state %q, want parked in the netpoller", state)
	}
	if err := waitForSpare(l, spec); err != nil {
		t.Errorf("the spare let through: %v", err)
	}
}

// awaitSpareStart waits until the gated spare script has logged its start
// in the file starts.
func awaitSpareStart(t *testing.T, starts string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if b, _ := os.ReadFile(starts); len(b) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the spare never started")
		}
	}
}

// TestConcurrentStartsAllRun: calls from four clients at once, some in
// spares and some in helpers started for them, all run. A helper started
// for a call used to announce itself as a spare does; the server, which
// closes its end right after the activation, then left that message
// unread, and the kernel reset the helper's socket before it read its
// activation (about one call in 200 failed with exit 125).
func TestConcurrentStartsAllRun(t *testing.T) {
	l := NewLauncher(nil, NamespaceLauncher(testNsexec(t)))
	defer l.Close()
	ws := t.TempDir()
	spec := Spec{Policy: Policy{Mode: WorkspaceWrite}, Workspace: ws}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 60 {
				pr, pw, err := os.Pipe()
				if err != nil {
					t.Error(err)
					return
				}
				cmd, err := l.Start(context.Background(), spec, []string{"/bin/echo", "hi"}, Proc{Dir: ws, Stdout: pw, Stderr: pw})
				pw.Close()
				if err != nil {
					pr.Close()
					t.Error(err)
					return
				}
				out, _ := io.ReadAll(pr)
				pr.Close()
				if err := cmd.Wait(); err != nil || string(out) != "hi\n" {
					t.Errorf("%v: %v, output %q", cmd.Args, err, out)
				}
				l.Prepare(spec)
			}
		})
	}
	wg.Wait()
}
