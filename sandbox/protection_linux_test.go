package sandbox

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestObserveReportsWhatTheHelperEnforces: Start tells the observer the
// call's Protection, the same Launcher.Protection computes, and the paths
// it lists as protected are the ones the sandboxed command cannot write.
func TestObserveReportsWhatTheHelperEnforces(t *testing.T) {
	l := NewLauncher(nil, NamespaceLauncher(testNsexec(t)))
	defer l.Close()
	e := newTestEnv(t, 0)
	spec := Spec{Policy: Policy{Mode: WorkspaceWrite, ExcludeSlashTmp: true, ExcludeTmpdirEnvVar: true}, Workspace: e.ws}
	var seen []Protection
	l.Observe(func(p Protection) { seen = append(seen, p) })
	want, err := l.Protection(spec)
	if err != nil {
		t.Fatal(err)
	}
	if want.Enforced != l.caps.Namespaces || want.Unconfined() || len(want.Roots) != 1 || want.Roots[0].Path != e.ws ||
		!slices.Contains(want.Roots[0].Protected, filepath.Join(e.ws, ".git")) {
		t.Fatalf("Protection = %+v", want)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	cmd, err := l.Start(context.Background(), spec, []string{"/bin/sh", "-c",
		"echo x >> .git/config && echo wrote-git; echo x >> a/f && echo wrote-ws"}, Proc{Dir: e.ws, Stdout: pw, Stderr: pw})
	pw.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || !reflect.DeepEqual(seen[0], want) {
		t.Errorf("observed %+v, want one %+v", seen, want)
	}
	out, _ := io.ReadAll(pr)
	cmd.Wait()
	got := string(out)
	if !strings.Contains(got, "wrote-ws") {
		t.Errorf("the workspace was not writable: %s", got)
	}
	if want.Enforced == strings.Contains(got, "wrote-git") {
		t.Errorf("Enforced = %v, but writing .git: %s", want.Enforced, got)
	}

	dfa, err := l.Protection(Spec{Policy: Policy{Mode: DangerFullAccess}, Workspace: e.ws})
	if err != nil || !dfa.Unconfined() {
		t.Errorf("danger-full-access: %+v, %v", dfa, err)
	}
}
