package sandbox

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// nsexecBuild is the namespace launcher compiled from nsexec/nsexec.c
// once per test binary, in a directory every uid may read.
var nsexecBuild struct {
	once sync.Once
	path string
	err  error
}

// testNsexec returns the compiled namespace launcher; it skips t when no C
// compiler is installed.
func testNsexec(t testing.TB) string {
	t.Helper()
	testNsexecOnce()
	if nsexecBuild.err != nil {
		t.Skipf("cannot build the namespace launcher: %v", nsexecBuild.err)
	}
	return nsexecBuild.path
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
		b, err := exec.Command(cc, "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-static", "-o", out, "nsexec/nsexec.c").CombinedOutput()
		if err != nil {
			nsexecBuild.err = &exec.Error{Name: cc + " nsexec/nsexec.c: " + string(b), Err: err}
			return
		}
		nsexecBuild.path = out
	})
}

// defaultNsexec is the launcher the harness's calls use unless they ask for
// os/exec's namespaces: the compiled one, as scripts/build-bash.sh builds
// it, or none (logged) without a C compiler.
func defaultNsexec(t testing.TB) string {
	t.Helper()
	testNsexecOnce()
	if nsexecBuild.err != nil {
		t.Logf("namespaces made by os/exec: cannot build the namespace launcher: %v", nsexecBuild.err)
	}
	return nsexecBuild.path
}

// TestMain's cleanup of the launcher's directory.
func removeTestNsexec() {
	if nsexecBuild.path != "" {
		os.RemoveAll(filepath.Dir(nsexecBuild.path))
	}
}

// TestNamespaceLauncherMakesTheSameNamespaces: what the sandboxed command
// sees of its user namespace (ids, maps, setgroups, capabilities, the
// helper as pid 1) is the same whether the namespace launcher or os/exec
// made the namespaces, as root and as an unprivileged user.
func TestNamespaceLauncherMakesTheSameNamespaces(t *testing.T) {
	nsexec := testNsexec(t)
	if !Probe(selfExe(t)).Namespaces {
		t.Skip("no user namespaces here")
	}
	const script = `id; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status; echo ppid=$PPID; grep -E '^(CapAmb|NoNewPrivs|Seccomp)' /proc/1/status`
	for _, uid := range []int{0, nobody} {
		e := newTestEnv(t, uid)
		var views []string
		for _, req := range []launchRequest{{NsExec: nsexec}, {GoClone: true}} {
			req.Policy = Policy{Mode: WorkspaceWrite}
			req.Argv = []string{"/bin/bash", "-c", script}
			out, code := e.launch(t, req)
			if code != 0 {
				t.Fatalf("uid %d, nsexec %q: exit %d:\n%s", uid, req.NsExec, code, out)
			}
			views = append(views, out)
		}
		if views[0] != views[1] {
			t.Errorf("uid %d: through the namespace launcher:\n%s\nthrough os/exec:\n%s", uid, views[0], views[1])
		}
		if !strings.Contains(views[0], "ppid=1\n") || !strings.Contains(views[0], "CapAmb:\t0000000000000000") {
			t.Errorf("uid %d: want Bash a child of pid 1 without ambient capabilities:\n%s", uid, views[0])
		}
	}
}

// TestNamespaceLauncherStartsWithoutCopyingTheServer: with a namespace
// launcher, os/exec starts helpers (for a call, a spare or the probe) with
// no namespace flags of its own, which lets it vfork instead of copying
// the server; the launcher makes the namespaces.
func TestNamespaceLauncherStartsWithoutCopyingTheServer(t *testing.T) {
	l := &Launcher{self: "/execgate", nsexec: "/nsexec"}
	for _, ns := range []bool{true, false} {
		cmd := l.helperCommand(context.Background(), ns, "sandbox", spareArg)
		want := "/execgate"
		if ns {
			want = "/nsexec"
		}
		if cmd.Path != want || cmd.SysProcAttr.Cloneflags != 0 || len(cmd.SysProcAttr.UidMappings) != 0 {
			t.Errorf("ns=%v: %s %v with clone flags %#x, want %s without", ns, cmd.Path, cmd.Args, cmd.SysProcAttr.Cloneflags, want)
		}
		if !cmd.SysProcAttr.Setpgid || cmd.SysProcAttr.Pdeathsig != syscall.SIGKILL {
			t.Errorf("ns=%v: want its own process group and a parent-death signal: %+v", ns, cmd.SysProcAttr)
		}
	}
	if want := []string{"/nsexec", "/execgate", "sandbox", spareArg}; !slices.Equal(l.helperCommand(context.Background(), true, "sandbox", spareArg).Args, want) {
		t.Errorf("args %v, want %v", l.helperCommand(context.Background(), true, "sandbox", spareArg).Args, want)
	}
}

// TestNamespaceLauncherLeavesNothing: the launcher holds no file of the
// call's but stdio, and when it is killed (the server gone) the helper and
// everything it started die with it.
func TestNamespaceLauncherLeavesNothing(t *testing.T) {
	nsexec := testNsexec(t)
	l := NewLauncher(selfExe(t), nil, NamespaceLauncher(nsexec))
	if l.nsexec == "" {
		t.Skip("no user namespaces here (or the launcher failed its probe)")
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

// TestEveryHelperThreadConfined: with namespaces the helper stays as pid 1
// beside the program, so each of its threads, not only the one that starts
// the program, must carry no_new_privs and the seccomp filter (the helper
// sets no_new_privs through the filter's thread sync, not separately), as
// must the program; as root and as an unprivileged user, in a helper started
// for the call and in a spare.
func TestEveryHelperThreadConfined(t *testing.T) {
	nsexec := testNsexec(t)
	if !Probe(selfExe(t)).Namespaces {
		t.Skip("no user namespaces here")
	}
	const script = `for f in /proc/self/status /proc/1/task/*/status; do printf '%s ' "$f"; grep -E '^(NoNewPrivs|Seccomp):' "$f" | tr '\n\t' '  '; echo; done`
	for _, uid := range []int{0, nobody} {
		e := newTestEnv(t, uid)
		for _, spare := range []bool{false, true} {
			out, code := e.launch(t, launchRequest{Policy: Policy{Mode: WorkspaceWrite}, NsExec: nsexec, Spare: spare,
				Argv: []string{"/bin/bash", "-c", script}})
			if code != 0 {
				t.Fatalf("uid %d, spare %v: exit %d:\n%s", uid, spare, code, out)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) < 3 { // the program and at least two helper threads
				t.Fatalf("uid %d, spare %v: want the program's and the helper's threads:\n%s", uid, spare, out)
			}
			for _, l := range lines {
				if !strings.Contains(l, "NoNewPrivs: 1") || !strings.Contains(l, "Seccomp: 2") {
					t.Errorf("uid %d, spare %v: not confined: %s", uid, spare, l)
				}
			}
		}
	}
}
