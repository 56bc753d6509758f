package sandbox

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestNestedShellMounted: with namespaces, bash, /bin/bash and
// /usr/bin/bash in the sandbox are the shell the spec names, read-only;
// without, they stay the system's.
func TestNestedShellMounted(t *testing.T) {
	e := newTestEnv(t, nobody)
	fake := e.base + "/fakebash"
	mustWrite(t, fake, "#!/bin/sh\necho \"fake bash $*\"\n")
	if err := os.Chmod(fake, 0o755); err != nil {
		t.Fatal(err)
	}
	// The script runs under a copy of the system's Bash: the helper
	// starts it after the mounts, and /bin/bash is then the fake.
	data, err := os.ReadFile("/bin/bash")
	if err != nil {
		t.Skip("no /bin/bash here")
	}
	outer := e.base + "/outerbash"
	if err := os.WriteFile(outer, data, 0o755); err != nil {
		t.Fatal(err)
	}
	script := `/bin/bash -c one; /usr/bin/bash -c two; bash -c three
for f in /bin/bash /usr/bin/bash; do : 2>/dev/null >> $f && echo wrote $f; done; echo done`
	nsOK := testProbe(t).Namespaces
	for _, noNS := range []bool{false, true} {
		if !noNS && !nsOK {
			continue
		}
		out, code := e.launch(t, launchRequest{Policy: Policy{Mode: WorkspaceWrite}, NoNamespaces: noNS, Shell: fake,
			Argv: []string{outer, "-c", script}})
		if code != 0 || !strings.Contains(out, "done") || strings.Contains(out, "wrote") {
			t.Errorf("no-ns=%v: exit %d (want 0, no write):\n%s", noNS, code, out)
		}
		replaced := strings.Count(out, "fake bash -c ")
		if noNS && replaced != 0 {
			t.Errorf("without namespaces the system's Bash was replaced:\n%s", out)
		}
		if !noNS && replaced != 3 {
			t.Errorf("bash, /bin/bash and /usr/bin/bash are not all the given shell:\n%s", out)
		}
	}
}

// TestNestedShellTargets: the system's Bash files, each once, never the
// patched Bash itself nor one in a writable root.
func TestNestedShellTargets(t *testing.T) {
	sys, err := filepath.EvalSymlinks("/bin/bash")
	if err != nil {
		t.Skip("no /bin/bash here")
	}
	m := nestedShell("/bin/sh", nil)
	if m == nil || !slices.Contains(m.Targets, sys) {
		t.Fatalf("targets %+v do not hold %s", m, sys)
	}
	for i, p := range m.Targets {
		if slices.Index(m.Targets, p) != i {
			t.Errorf("%s twice in %v", p, m.Targets)
		}
	}
	if m := nestedShell("/bin/bash", nil); m != nil && slices.Contains(m.Targets, sys) {
		t.Errorf("the patched Bash is its own target: %v", m.Targets)
	}
	if m := nestedShell("/bin/sh", []Root{{Path: filepath.Dir(sys)}}); m != nil && slices.Contains(m.Targets, sys) {
		t.Errorf("a Bash in a writable root is a target: %v", m.Targets)
	}
	if m := nestedShell("", nil); m != nil {
		t.Errorf("no shell, yet targets %v", m.Targets)
	}
}
