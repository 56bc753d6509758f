package sandbox

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestUnenforceableModeRunsNothing simulates a kernel without Landlock: the
// launcher refuses, and so does the helper if it is started anyway.
func TestUnenforceableModeRunsNothing(t *testing.T) {
	l := NewLauncher(nil, NamespaceLauncher(testNsexec(t)))
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	argv := []string{"/bin/bash", "-c", "touch " + marker}

	for _, mode := range []Mode{ReadOnly, WorkspaceWrite} {
		spec := Spec{Policy: Policy{Mode: mode}, Workspace: dir, landlockABI: -1}
		_, err := l.Start(context.Background(), spec, argv, Proc{})
		var ue *UnenforceableError
		if !errors.As(err, &ue) {
			t.Fatalf("%s: err = %v, want *UnenforceableError", mode, err)
		}
		for _, want := range []string{string(mode), "Landlock", `"danger-full-access"`, "nothing was run"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not mention %s", mode, err, want)
			}
		}
	}
	spec := Spec{Policy: Policy{Mode: DangerFullAccess}, Workspace: dir, landlockABI: -1}
	if _, err := l.helperSpec(spec, argv); err != nil {
		t.Errorf("danger-full-access needs no Landlock: %v", err)
	}

	// The server builds the Landlock ruleset; a helper that gets none for
	// a sandboxed call must not run the program either.
	for _, ns := range []bool{false, true} {
		if ns && !l.caps.Namespaces {
			continue
		}
		out, code := runActivated(t, l, filtered(t, helperSpec{Mode: WorkspaceWrite, Namespaces: ns}), argv)
		if code != exitSetup || !strings.Contains(out, "without its Landlock ruleset") {
			t.Errorf("ns=%v: helper: exit %d, output %q; want exit %d naming the ruleset", ns, code, out, exitSetup)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("ns=%v: the program ran", ns)
		}
	}
}

// TestOlderABIWithoutScoping: at ABI 5 (no scoping) the sandbox still
// runs, and a signal to a process outside it is no longer blocked.
func TestOlderABIWithoutScoping(t *testing.T) {
	if landlockABI() < 6 {
		t.Skip("kernel has no scoping anyway")
	}
	e := newTestEnv(t, nobody)
	for _, abi := range []int{5, 6} {
		out, code := e.launch(t, launchRequest{
			Policy:       Policy{Mode: WorkspaceWrite},
			LandlockABI:  abi,
			NoNamespaces: true,
			Argv:         []string{"/bin/bash", "-c", e.bin + " probe kill $EG_OUTER_PID; " + e.bin + " probe write " + e.ws + "/x"},
		})
		wantKill := abi < 6
		if gotKill := strings.HasPrefix(out, "ok"); gotKill != wantKill || code != 0 {
			t.Errorf("ABI %d: kill allowed=%v (want %v), exit %d:\n%s", abi, gotKill, wantKill, code, out)
		}
	}
}

// TestGitdirTargetProtected: a `.git` file points at a gitdir inside the
// writable root; that gitdir is read-only too, and a missing gitdir cannot
// be created.
func TestGitdirTargetProtected(t *testing.T) {
	if !testProbe(t).Namespaces {
		t.Skip("no user namespaces here")
	}
	for _, uid := range []int{0, nobody} {
		e := newTestEnv(t, uid)
		if err := os.RemoveAll(e.ws + "/.git"); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, e.ws+"/.git", "gitdir: meta/gd\n")
		mustMkdir(t, e.ws+"/meta/gd")
		mustWrite(t, e.ws+"/meta/gd/config", "[core]\n")
		// A second root whose .git points at a gitdir not created yet.
		ws2 := e.base + "/ws2"
		mustMkdir(t, ws2)
		mustWrite(t, ws2+"/.git", "gitdir: missing/gd\n")
		chownTree(t, e.ws, uid)
		chownTree(t, ws2, uid)
		script := strings.Join([]string{
			e.bin + " probe write " + e.ws + "/meta/gd/config",
			e.bin + " probe write " + e.ws + "/.git",
			e.bin + " probe write " + e.ws + "/meta/other",
			"mkdir -p " + ws2 + "/missing/gd 2>/dev/null; " + e.bin + " probe write " + ws2 + "/missing/gd/config",
			e.bin + " probe write " + ws2 + "/other",
		}, "; ")
		out, code := e.launch(t, launchRequest{
			Policy: Policy{Mode: WorkspaceWrite, WritableRoots: []string{ws2}},
			Argv:   []string{"/bin/bash", "-c", script},
		})
		lines := strings.Split(strings.TrimSpace(out), "\n")
		ro := func(i int) bool { return i < len(lines) && strings.Contains(lines[i], "read-only file system") }
		if code != 0 || len(lines) != 5 || !ro(0) || !ro(1) || lines[2] != "ok" || !ro(3) || lines[4] != "ok" {
			t.Errorf("uid %d: exit %d, want gitdirs and .git read-only, the rest writable:\n%s", uid, code, out)
		}
		if fi, err := os.Stat(ws2 + "/missing"); err != nil || !fi.IsDir() {
			t.Errorf("uid %d: want an empty placeholder directory for the missing gitdir: %v", uid, err)
		}
	}
}

func TestReport(t *testing.T) {
	var b bytes.Buffer
	c := Capabilities{OS: "linux", LandlockABI: 7, Seccomp: true, NamespacesError: "EPERM"}
	if err := Report(&b, c); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"landlock:           ABI 7", "user namespaces:    no (EPERM)",
		"NOT protected", "signals and abstract sockets scoped", "subreaper cleanup"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := Report(&b, Capabilities{OS: "linux", Seccomp: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "read-only:          REFUSED: Landlock is not available") {
		t.Errorf("report without Landlock:\n%s", b.String())
	}
	b.Reset()
	if err := Report(&b, testProbe(t)); err != nil {
		t.Fatal(err)
	}
	t.Logf("this machine:\n%s", b.String())
}

// TestRootSwappedForSymlinkFailsClosed: the layout resolved the roots; if
// one has become a symlink by the time the server pins it for the Landlock
// ruleset, nothing runs. Nor does it when what the helper finds at a path
// it mounts on or from is not the file the server pinned (a concurrent
// call renamed it and linked or put something else in its place): a root
// it keeps writable, a directory a placeholder is made in, or the
// original of a mount.
func TestRootSwappedForSymlinkFailsClosed(t *testing.T) {
	l := NewLauncher(nil, NamespaceLauncher(testNsexec(t)))
	nsOK := l.caps.Namespaces
	base := t.TempDir()
	target := filepath.Join(base, "target")
	link := filepath.Join(base, "root")
	mustMkdir(t, target)
	mustMkdir(t, target+"/.git")
	mustMkdir(t, target+"/sub/.git")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	h := filtered(t, helperSpec{Mode: WorkspaceWrite, Roots: []Root{{Path: link, Protected: []string{link + "/.git"}}}})
	if fd, err := buildRuleset(&h); err == nil || !strings.Contains(err.Error(), "now a symlink") {
		unix.Close(fd)
		t.Errorf("server: ruleset on a symlinked root: %v, want an error naming the symlink", err)
	}
	if !nsOK {
		return
	}
	var st unix.Stat_t
	if err := unix.Stat(target, &st); err != nil {
		t.Fatal(err)
	}
	id := fileID{st.Dev, st.Ino}
	other := fileID{st.Dev, st.Ino + 1}
	if err := unix.Stat(target+"/.git", &st); err != nil {
		t.Fatal(err)
	}
	gitID := fileID{st.Dev, st.Ino}
	idOf := func(p string) fileID {
		if err := unix.Stat(p, &st); err != nil {
			t.Fatal(err)
		}
		return fileID{st.Dev, st.Ino}
	}
	// A target that a mask made here replaced is exempt from the identity
	// check only when that very mask was made: here the plan names a mask
	// that was not (its path is gone), so the skeleton entry that the
	// other mask put at sub/.git must be refused.
	notMade := []mountOp{
		{Path: target + "/gone", Kind: opMask, Dir: true, ID: other},
		{Path: target + "/sub", Kind: opMask, Dir: true, ID: idOf(target + "/sub"), Keep: []string{target + "/sub/.git"}, KeepFile: []bool{false}},
		{Path: target + "/sub/.git", Kind: opReadOnly, Dir: true, ID: idOf(target + "/sub/.git"), InMask: 1},
	}
	for name, c := range map[string]struct {
		writable []pathID
		mounts   []mountOp
		want     string
	}{
		"writable symlink":     {[]pathID{{link, id}}, nil, "now a symlink"},
		"writable other dir":   {[]pathID{{target, other}}, nil, "writable " + target + ": it was replaced while the sandbox was being set up"},
		"placeholder dir":      {nil, []mountOp{{Path: target + "/.codex", Kind: opReadOnly, Dir: true, MakeIn: pathID{target, other}, Make: []string{".codex"}}}, "protect " + target + "/.codex: " + target + ": it was replaced"},
		"placeholder symlink":  {nil, []mountOp{{Path: link + "/.codex", Kind: opReadOnly, Dir: true, MakeIn: pathID{link, id}, Make: []string{".codex"}}}, "now a symlink"},
		"original other":       {nil, []mountOp{{Path: target + "/.git", Kind: opReadOnly, Dir: true, ID: id}}, "protect " + target + "/.git: it was replaced"},
		"original now symlink": {nil, []mountOp{{Path: link + "/.git", Kind: opMask, Dir: true, ID: id}}, "deny " + link + "/.git: a path component is now a symlink"},
		"mask index":           {nil, []mountOp{{Path: target + "/.git", Kind: opReadOnly, Dir: true, ID: gitID, InMask: 1}}, "bad spec: protect " + target + "/.git in mask 1"},
		"mask not made":        {nil, notMade, "protect " + target + "/sub/.git: it was replaced"},
	} {
		h := filtered(t, helperSpec{Mode: WorkspaceWrite, Roots: []Root{{Path: target}}, Namespaces: true,
			AllWritable: c.writable == nil, Writable: c.writable, Mounts: c.mounts})
		out, code := runActivated(t, l, h, []string{"/bin/bash", "-c", "touch " + target + "/ran"})
		if code != exitSetup || !strings.Contains(out, c.want) {
			t.Errorf("%s: exit %d, output %q; want exit %d and %q", name, code, out, exitSetup, c.want)
		}
		if _, err := os.Stat(target + "/ran"); err == nil {
			t.Fatalf("%s: the program ran", name)
		}
	}
	if _, err := os.Stat(target + "/.codex"); err == nil {
		t.Error("a placeholder was made in a replaced directory")
	}
}

// TestHelperRefusesSpecWithoutFilter: the server assembles the seccomp
// programs and the helper only loads them; a sandboxed spec that arrives
// without one (or with a cut one) must not run the program unfiltered, nor
// without the kernel gate it asked for.
func TestHelperRefusesSpecWithoutFilter(t *testing.T) {
	l := NewLauncher(nil, NamespaceLauncher(testNsexec(t)))
	if err := l.caps.Check(WorkspaceWrite); err != nil {
		t.Skipf("sandbox not enforceable here: %v", err)
	}
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	for _, ns := range []bool{false, true} {
		if ns && !l.caps.Namespaces {
			continue
		}
		h, err := l.helperSpec(Spec{Policy: Policy{Mode: WorkspaceWrite}, Workspace: dir}, []string{"/bin/true"})
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Seccomp) == 0 {
			t.Fatal("the launcher made a workspace-write spec without a seccomp program")
		}
		h.Namespaces, h.Mounts, h.Shell = ns, nil, nil
		good := h.Seccomp
		gate, err := gateFilter()
		if err != nil {
			t.Fatal(err)
		}
		cut := func(b []byte) []byte { return b[:len(b)-3] }
		for name, c := range map[string]struct {
			main, gate []byte
			wantGate   bool
			want       string
		}{
			"no program":             {nil, nil, false, "seccomp filter"},
			"cut":                    {cut(good), nil, false, "seccomp filter"},
			"gate, no gate program":  {good, nil, true, "kernel gate filter"},
			"gate, cut gate program": {good, cut(filterBytes(gate)), true, "kernel gate filter"},
		} {
			h.Seccomp, h.GateFilter, h.Gate = c.main, c.gate, c.wantGate
			out, code := runActivated(t, l, h, []string{"/bin/bash", "-c", "touch " + marker})
			if code != exitSetup || !strings.Contains(out, c.want) {
				t.Errorf("ns=%v, %s: exit %d, output %q; want exit %d naming the %s", ns, name, code, out, exitSetup, c.want)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatalf("ns=%v, %s: the program ran", ns, name)
			}
		}
	}
}

// filtered is h with the seccomp programs the launcher would attach, for
// tests that hand-make a spec to reach a later check.
func filtered(t *testing.T, h helperSpec) helperSpec {
	t.Helper()
	if err := h.attachFilters(); err != nil {
		t.Fatal(err)
	}
	return h
}

// runActivated starts a helper for h and argv and hands it h as given, as
// startCall would but without building a ruleset or resolving mounts, for
// tests that reach the helper's own checks with a hand-made plan. It
// returns what the call wrote (stdout and stderr) and its exit status.
func runActivated(t *testing.T, l *Launcher, h helperSpec, argv []string) (string, int) {
	t.Helper()
	return runActivatedWith(t, l, h, argv, -1)
}

// runActivatedWith is runActivated with the Landlock ruleset fd ruleset
// (built by the caller, for h) sent along, -1 for none.
func runActivatedWith(t *testing.T, l *Launcher, h helperSpec, argv []string, ruleset int) (string, int) {
	t.Helper()
	out, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	files, err := activationFiles(Proc{Stdout: out, Stderr: out})
	if err != nil {
		t.Fatal(err)
	}
	if ruleset >= 0 {
		files = append([]int{ruleset}, files...)
	}
	memfd, err := activationFD(encodePlan(h, argv, nil, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(memfd)
	s, err := l.startSpare(h.Namespaces, startedArg)
	if err != nil {
		t.Fatal(err)
	}
	if err := sendActivation(s.ctl, memfd, files); err != nil {
		s.discard()
		t.Fatal(err)
	}
	cmd := s.running(context.Background(), h, Proc{})
	_ = cmd.Wait()
	b, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b), cmd.ProcessState.ExitCode()
}

// TestPlanWithoutKeepListIsAllReadOnly: the read-only pass fails safe. A
// namespaced plan that names no writable mount (Writable) and does not say
// that the whole filesystem stays writable (AllWritable) leaves nothing
// writable, not everything: even the workspace the Landlock ruleset grants
// is read-only then. The plan the server makes for the same call writes.
func TestPlanWithoutKeepListIsAllReadOnly(t *testing.T) {
	l := NewLauncher(nil, NamespaceLauncher(testNsexec(t)))
	if !l.caps.Namespaces {
		t.Skip("no user namespaces here")
	}
	ws := t.TempDir()
	argv := []string{"/bin/bash", "-c", "echo x > " + ws + "/f && echo wrote"}
	h, err := l.helperSpec(Spec{Policy: Policy{Mode: WorkspaceWrite}, Workspace: ws}, argv)
	if err != nil {
		t.Fatal(err)
	}
	ruleset, err := buildRuleset(&h)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ruleset)
	if err := resolveMounts(&h); err != nil {
		t.Fatal(err)
	}
	if h.AllWritable || len(h.Writable) == 0 {
		t.Fatalf("the server's plan for a workspace-write call: AllWritable %v, Writable %v", h.AllWritable, h.Writable)
	}
	if out, code := runActivatedWith(t, l, h, argv, ruleset); code != 0 || out != "wrote\n" {
		t.Fatalf("the server's plan: exit %d, output %q; want the workspace written", code, out)
	}
	h.Writable = nil
	out, code := runActivatedWith(t, l, h, argv, ruleset)
	if code == 0 || !strings.Contains(out, "Read-only file system") {
		t.Errorf("a plan without a keep list: exit %d, output %q; want the write refused by a read-only mount", code, out)
	}
}
