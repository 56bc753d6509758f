package sandbox

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/execgate/execgate/internal/testbin"
)

// nsexecBuild is the sandbox launcher compiled from nsexec/*.c
// once per test binary, in a directory every uid may read.
var nsexecBuild struct {
	once sync.Once
	path string
	err  error
}

// testNsexec returns the compiled launcher. Without a C compiler the test
// fails: every call starts through the launcher, so the sandbox suite would
// prove nothing.
func testNsexec(t testing.TB) string {
	t.Helper()
	testNsexecOnce()
	if nsexecBuild.err != nil {
		t.Fatalf("cannot build the sandbox launcher: %v", nsexecBuild.err)
	}
	return nsexecBuild.path
}

// testProbe is Probe as a launcher with the compiled launcher sees it.
func testProbe(t testing.TB) Capabilities {
	t.Helper()
	return Probe(testNsexec(t))
}

func testNsexecOnce() {
	nsexecBuild.once.Do(func() {
		cc, err := exec.LookPath("cc")
		if err != nil {
			nsexecBuild.err = err
			return
		}
		dir, err := os.MkdirTemp("/var/tmp", "execgate-nsexec-test-")
		if err != nil {
			nsexecBuild.err = err
			return
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			nsexecBuild.err = err
			return
		}
		out := filepath.Join(dir, "execgate-nsexec")
		files, err := testbin.NsexecSources("nsexec")
		if err != nil {
			nsexecBuild.err = err
			return
		}
		args := append([]string{"-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-static", "-o", out}, files...)
		b, err := exec.Command(cc, args...).CombinedOutput()
		if err != nil {
			nsexecBuild.err = &exec.Error{Name: cc + " nsexec/*.c: " + string(b), Err: err}
			return
		}
		nsexecBuild.path = out
	})
}

// TestMain's cleanup of the launcher's directory.
func removeTestNsexec() {
	if nsexecBuild.path != "" {
		os.RemoveAll(filepath.Dir(nsexecBuild.path))
	}
}

// TestNamespaceLauncherMakesTheNamespaces: what the sandboxed command sees
// of its user namespace: its own ids mapped to themselves (root: every id
// of its namespace), setgroups denied to anyone else, no ambient
// capabilities, and the launcher's unconfined pid 1 as its parent, as root
// and as an unprivileged user.
func TestNamespaceLauncherMakesTheNamespaces(t *testing.T) {
	if !testProbe(t).Namespaces {
		t.Skip("no user namespaces here")
	}
	const script = `id -u; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; grep -E '^CapAmb' /proc/self/status; echo pid=$$ ppid=$PPID; grep -E '^(Threads|NoNewPrivs|Seccomp):' /proc/1/status`
	for _, uid := range []int{0, nobody} {
		e := newTestEnv(t, uid)
		out, code := e.launch(t, launchRequest{Policy: Policy{Mode: WorkspaceWrite}, Argv: []string{"/bin/bash", "-c", script}})
		if code != 0 {
			t.Fatalf("uid %d: exit %d:\n%s", uid, code, out)
		}
		fields := strings.Fields(out)
		want := []string{strconv.Itoa(uid), "CapAmb:", "0000000000000000", "pid=2", "ppid=1", "Threads:", "1", "NoNewPrivs:", "0", "Seccomp:", "0"}
		if uid != 0 {
			want = append(want, "65534", "65534", "1", "deny")
		}
		for _, w := range want {
			if !slices.Contains(fields, w) {
				t.Errorf("uid %d: no %q in what the call sees:\n%s", uid, w, out)
			}
		}
		if uid == 0 && !regexp.MustCompile(`(?m)^\s*0\s+0\s+\d+$`).MatchString(out) {
			t.Errorf("root: its ids not mapped to themselves:\n%s", out)
		}
	}
}

// TestNamespaceLauncherStartsWithoutCopyingTheServer: os/exec starts every
// helper (for a call, a spare or the probe) through the launcher, with no
// namespace flags of its own, which lets it vfork instead of copying the
// server; the launcher makes the namespaces. Without a launcher nothing
// starts.
func TestNamespaceLauncherStartsWithoutCopyingTheServer(t *testing.T) {
	l := &Launcher{nsexec: "/nsexec"}
	for _, ns := range []bool{true, false} {
		cmd, err := l.helperCommand(context.Background(), ns, spareArg)
		if err != nil {
			t.Fatal(err)
		}
		mode := "--no-ns"
		if ns {
			mode = "--ns"
		}
		if want := []string{"/nsexec", mode, spareArg}; cmd.Path != "/nsexec" || !slices.Equal(cmd.Args, want) {
			t.Errorf("ns=%v: %s %v, want %v", ns, cmd.Path, cmd.Args, want)
		}
		if cmd.SysProcAttr.Cloneflags != 0 || len(cmd.SysProcAttr.UidMappings) != 0 {
			t.Errorf("ns=%v: clone flags %#x: os/exec would copy the server", ns, cmd.SysProcAttr.Cloneflags)
		}
		if !cmd.SysProcAttr.Setpgid || cmd.SysProcAttr.Pdeathsig != syscall.SIGKILL {
			t.Errorf("ns=%v: want its own process group and a parent-death signal: %+v", ns, cmd.SysProcAttr)
		}
	}
	l.nsexec = ""
	if _, err := l.helperCommand(context.Background(), false, spareArg); err == nil || !strings.Contains(err.Error(), "make bash") {
		t.Errorf("without a launcher: err = %v, want one naming how to build it", err)
	}
}

// TestNamespaceLauncherLeavesNothing: the launcher holds no file of the
// call's but stdio, and when it is killed (the server gone) the helper and
// everything it started die with it.
func TestNamespaceLauncherLeavesNothing(t *testing.T) {
	nsexec := testNsexec(t)
	l := NewLauncher(nil, NamespaceLauncher(nsexec))
	if !l.caps.Namespaces {
		t.Skip("no user namespaces here")
	}
	marker := fmt.Sprintf("egnsexec%d", time.Now().UnixNano())
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	extra, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	cmd, err := l.Start(context.Background(), Spec{Policy: Policy{Mode: WorkspaceWrite}, Workspace: t.TempDir()},
		[]string{"/bin/bash", "-c", fmt.Sprintf(`m=%s; bash -c "exec -a ${m}job sleep 1000" & echo up; wait`, marker)},
		Proc{Stdout: pw, Extra: extra})
	pw.Close()
	if err != nil {
		t.Fatal(err)
	}
	if cmd.Path != nsexec {
		t.Fatalf("started %s, want the namespace launcher", cmd.Path)
	}
	line := make([]byte, 3)
	if _, err := io.ReadFull(pr, line); err != nil || string(line) != "up\n" {
		t.Fatalf("no output from the call: %q %v", line, err)
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if n, _ := strconv.Atoi(fd.Name()); n > 2 {
			target, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", cmd.Process.Pid, fd.Name()))
			t.Errorf("the launcher holds fd %d (%s)", n, target)
		}
	}
	marker += "job"
	deadline := time.Now().Add(10 * time.Second)
	for len(processesWith(marker)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the call's job did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Kill()
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("Wait: %v, want killed by SIGKILL", err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for len(processesWith(marker)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("processes left after the launcher died: %v", processesWith(marker))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCallCannotReachItsSupervisor: the launcher supervises the call
// unconfined, as pid 1 of its namespaces or as the subreaper without them,
// while the program runs under Landlock and seccomp. The call must not be
// able to signal its supervisor (Landlock scoping, ABI 6) nor read its
// memory (Landlock's ptrace rule) or, but as root without namespaces, its
// environment (the supervisor is not dumpable); as root and as an
// unprivileged user, with and without namespaces, in a helper started for
// the call and in a spare. Root outside a user namespace keeps
// CAP_SYS_PTRACE past the dumpable check, and the test kernel (6.18) lets
// a Landlock domain read, though not attach to, its parent: the
// supervisor's environment there is what the server passes a helper
// (spareEnv: Go runtime settings only).
func TestCallCannotReachItsSupervisor(t *testing.T) {
	ns := testProbe(t).Namespaces
	scoped := landlockABI() >= 6
	const script = `sup=$PPID
grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status | tr '\n\t' '  '; echo
grep -E '^Threads:' /proc/$sup/status
if kill -USR1 $sup 2>/dev/null; then echo signalled; else echo refused; fi
if head -c1 /proc/$sup/mem >/dev/null 2>&1; then echo mem-read; else echo mem-unreadable; fi
if head -c1 /proc/$sup/environ >/dev/null 2>&1; then echo env-read; else echo env-unreadable; fi
echo done`
	for _, uid := range []int{0, nobody} {
		e := newTestEnv(t, uid)
		for _, noNS := range []bool{false, true} {
			if !noNS && !ns {
				continue
			}
			for _, spare := range []bool{false, true} {
				out, code := e.launch(t, launchRequest{Policy: Policy{Mode: WorkspaceWrite}, NoNamespaces: noNS, Spare: spare,
					Argv: []string{"/bin/bash", "-c", script}})
				name := fmt.Sprintf("uid %d, namespaces %v, spare %v", uid, !noNS, spare)
				if code != 0 || !strings.HasSuffix(out, "done\n") {
					t.Fatalf("%s: exit %d (the supervisor passed on a signal the call sent it?):\n%s", name, code, out)
				}
				want := []string{"NoNewPrivs: 1", "Seccomp: 2", "Threads:\t1\n", "mem-unreadable"}
				if uid != 0 || !noNS {
					want = append(want, "env-unreadable")
				}
				for _, want := range want {
					if !strings.Contains(out, want) {
						t.Errorf("%s: no %q:\n%s", name, want, out)
					}
				}
				if scoped && !strings.Contains(out, "refused") {
					t.Errorf("ATTACK SUCCEEDED: %s: the call signalled its supervisor:\n%s", name, out)
				}
			}
		}
	}
}

// TestNoLauncherRunsNothing: without the sandbox launcher no call runs, in
// any mode (it is every call's supervisor), and the error and the doctor
// report name the command that builds it.
func TestNoLauncherRunsNothing(t *testing.T) {
	l := NewLauncher(nil)
	marker := filepath.Join(t.TempDir(), "ran")
	for _, mode := range []Mode{ReadOnly, WorkspaceWrite, DangerFullAccess} {
		cmd, err := l.Start(context.Background(), Spec{Policy: Policy{Mode: mode}, Workspace: t.TempDir()},
			[]string{"/bin/bash", "-c", "touch " + marker}, Proc{})
		if cmd != nil || err == nil || !strings.Contains(err.Error(), "make bash") || !strings.Contains(err.Error(), "nothing was run") {
			t.Errorf("%s: cmd %v, err = %v; want nothing started and an error naming make bash", mode, cmd, err)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a command ran without the launcher")
	}
	var b strings.Builder
	if err := Report(&b, l.Capabilities()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "launcher:           MISSING") || strings.Count(b.String(), "REFUSED: no sandbox launcher") != 3 {
		t.Errorf("report does not say the launcher is missing:\n%s", b.String())
	}
}

// TestBrokenLauncherRunsNothing: a launcher that cannot start calls, as one
// from a build before the launcher took a mode argument could not, is no
// launcher: no call runs, and the error names the launcher, what it said
// and the command that rebuilds it.
func TestBrokenLauncherRunsNothing(t *testing.T) {
	old := filepath.Join(t.TempDir(), "execgate-nsexec")
	script := "#!/bin/sh\necho 'execgate sandbox: usage: execgate-nsexec /PATH/OF/HELPER [ARG...]' >&2\nexit 125\n"
	if err := os.WriteFile(old, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	l := NewLauncher(nil, NamespaceLauncher(old))
	for _, want := range []string{old, "usage: execgate-nsexec", "make bash"} {
		if !strings.Contains(l.caps.LauncherError, want) {
			t.Errorf("LauncherError %q does not name %q", l.caps.LauncherError, want)
		}
	}
	marker := filepath.Join(t.TempDir(), "ran")
	for _, mode := range []Mode{WorkspaceWrite, DangerFullAccess} {
		if cmd, err := l.Start(context.Background(), Spec{Policy: Policy{Mode: mode}, Workspace: t.TempDir()},
			[]string{"/bin/bash", "-c", "touch " + marker}, Proc{}); cmd != nil || err == nil {
			t.Errorf("%s: started %v, err = %v; want refused", mode, cmd, err)
		}
	}
	// The launcher this build makes works, with or without namespaces.
	if c := testProbe(t); c.LauncherError != "" {
		t.Errorf("the built launcher: %s", c.LauncherError)
	}
}
