package engine

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/testhelp"
)

// Each call is decided by the rules of the trusted project its workdir is
// in: A's in A and below, B's in B, neither in an untrusted project C nor
// outside any project, and never rules a sandboxed command could have
// written (a .codex inside the workspace of a trusted project).
func TestEngineProjectRulesPerCall(t *testing.T) {
	out := testhelp.PrivateDir(t)
	root := testhelp.PrivateDir(t)
	ws := t.TempDir() // the workspace: itself a trusted project W
	A, B, C := filepath.Join(root, "A"), filepath.Join(root, "B"), filepath.Join(root, "C")
	testhelp.ProjectTree(t, root, []string{"A", "B", "C"}, map[string]string{
		"A/.codex/rules/a.rules": `prefix_rule(pattern=["echo"], decision="forbidden", justification="project A: no echo")` + "\n",
		"B/.codex/rules/b.rules": `prefix_rule(pattern=["touch"], decision="allow")` + "\n",
		"C/.codex/rules/c.rules": `prefix_rule(pattern=["touch"], decision="allow")` + "\n" +
			`prefix_rule(pattern=["echo"], decision="forbidden", justification="project C: no echo")` + "\n",
	})
	for _, d := range []string{"A/sub/deeper", "C/sub"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	alias := filepath.Join(root, "alias-of-A")
	if err := os.Symlink(A, alias); err != nil {
		t.Fatal(err)
	}
	testhelp.ProjectTree(t, filepath.Dir(ws), []string{filepath.Base(ws)}, map[string]string{
		// The workspace's own .codex is kept read-only by the sandbox
		// (when it has namespaces); a sub/.codex is writable.
		filepath.Base(ws) + "/.codex/rules/w.rules":     `prefix_rule(pattern=["echo"], decision="forbidden", justification="project W: no echo")` + "\n",
		filepath.Base(ws) + "/sub/.codex/rules/x.rules": `prefix_rule(pattern=["touch"], decision="allow")` + "\n",
	})
	logs := &testhelp.LogBuffer{}
	self := testhelp.Execgate(t) // built from the module, before leaving it
	t.Chdir(C)                   // the server starts in the untrusted project
	te := newTestEngineLog(t, self, "", trustProjects(map[string]string{A: "trusted", B: "trusted", C: "untrusted", ws: "trusted"}),
		slog.New(slog.NewTextHandler(logs, nil)))
	protects := te.launcher.Capabilities().ProtectsPaths()

	wEcho := escalate.Run
	if protects {
		wEcho = escalate.Deny
	}
	tests := []struct {
		name      string
		workdir   string
		echo      escalate.Action // of /bin/echo
		denial    string
		touch     escalate.Action // of touch OUT/<name>
		touchFile string
	}{
		{"A forbids echo, does not allow touch", A, escalate.Deny, "project A: no echo", escalate.Run, "a"},
		{"A's subdirectory has A's rules", filepath.Join(A, "sub/deeper"), escalate.Deny, "project A: no echo", escalate.Run, "a-sub"},
		{"A by another path: A's rules", filepath.Join(alias, "sub"), escalate.Deny, "project A: no echo", escalate.Run, "a-alias"},
		{"B allows touch, does not forbid echo", B, escalate.Run, "", escalate.Escalate, "b"},
		{"untrusted C contributes nothing", C, escalate.Run, "", escalate.Run, "c"},
		{"nor in its subdirectory", filepath.Join(C, "sub"), escalate.Run, "", escalate.Run, "c-sub"},
		{"outside any project: shared rules only", out, escalate.Run, "", escalate.Run, "none"},
		{"the workspace's protected .codex counts", ws, wEcho, "project W: no echo", escalate.Run, "w"},
		{"a .codex the sandbox can write does not", filepath.Join(ws, "sub"), wEcho, "project W: no echo", escalate.Run, "w-sub"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := filepath.Join(out, tt.touchFile)
			res := te.shell(t, "/bin/echo hi; touch "+target, tt.workdir, ws)
			var got []escalate.Action
			for _, d := range res.Decisions {
				got = append(got, d.Decision)
			}
			if want := []escalate.Action{tt.echo, tt.touch}; !slices.Equal(got, want) {
				t.Errorf("decisions %+v, want %v", res.Decisions, want)
			}
			if tt.echo == escalate.Deny && !strings.Contains(res.Output, "Execution denied: "+tt.denial) {
				t.Errorf("output %q lacks the denial %q", res.Output, tt.denial)
			}
			if tt.echo == escalate.Run && !strings.HasPrefix(res.Output, "hi\n") {
				t.Errorf("output %q, want hi first", res.Output)
			}
			if testhelp.Exists(target) != (tt.touch == escalate.Escalate) {
				t.Errorf("%s exists = %v after %s", target, testhelp.Exists(target), tt.touch)
			}
		})
	}

	// One store per project, whatever the subdirectory or the path to it;
	// C and no project share the base store.
	var keys []string
	for _, e := range te.stores.recent {
		keys = append(keys, e.key)
	}
	want := []string{A + "/.codex/rules", B + "/.codex/rules"}
	if protects {
		want = append(want, ws+"/.codex/rules")
	}
	slices.Sort(keys)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Errorf("cached stores for %q, want %q", keys, want)
	}

	logged := logs.String()
	for _, n := range []string{
		"ignoring rules in " + C + "/.codex/rules: project " + C + " is not trusted", // at startup, not again per call
		"ignoring rules in " + ws + "/sub/.codex/rules: sandboxed commands could change them",
	} {
		if c := strings.Count(logged, n); c != 1 {
			t.Errorf("logged %d times, want once: %q\nlog:\n%s", c, n, logged)
		}
	}
}

// `execgate doctor` reports the project rules of the server's cwd.
func TestEngineReportProjectRules(t *testing.T) {
	root := testhelp.PrivateDir(t)
	A := filepath.Join(root, "A")
	testhelp.ProjectTree(t, root, []string{"A"}, map[string]string{"A/.codex/rules/a.rules": `prefix_rule(pattern=["echo"], decision="forbidden")` + "\n"})
	if err := os.MkdirAll(filepath.Join(A, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	self := testhelp.Execgate(t)
	t.Chdir(filepath.Join(A, "sub"))
	te := newTestEngineWith(t, self, `prefix_rule(pattern=["ls"], decision="allow")`+"\n", trustProjects(map[string]string{A: "trusted"}))
	var b strings.Builder
	te.Report(&b)
	for _, w := range []string{"rules:              2 rules from 2 files (project rules for " + A + "/sub;",
		"  " + te.home + "/rules/test.rules (1 allow rule)\n", "  " + A + "/.codex/rules/a.rules (1 forbidden rule)\n"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("report lacks %q:\n%s", w, b.String())
		}
	}
}

// A project rules directory counts only if no sandboxed command can change
// what it holds.
func TestSandboxCanChange(t *testing.T) {
	outer := t.TempDir() // a writable root holding the workspace, as /tmp does
	ws := filepath.Join(outer, "ws")
	safe := testhelp.PrivateDir(t)
	for _, f := range []string{"ws/.codex/rules/w.rules", "ws/sub/.codex/rules/s.rules"} {
		testhelp.WriteFile(t, filepath.Join(outer, f), "")
	}
	for _, f := range []string{"p/.codex/rules/p.rules", "linked/.codex/rules/real.rules", "byfile/.codex/rules/x.txt"} {
		testhelp.WriteFile(t, filepath.Join(safe, f), "")
	}
	mustLink := func(target, link string) {
		t.Helper()
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	testhelp.WriteFile(t, filepath.Join(outer, "planted.rules"), "")
	mustLink(filepath.Join(outer, "planted.rules"), filepath.Join(safe, "byfile/.codex/rules/x.rules")) // a rules file pointing into a root
	mustLink(filepath.Join(safe, "p"), filepath.Join(ws, "link"))                                       // a directory link inside a root
	mustLink(filepath.Join(ws, "sub/.codex"), filepath.Join(safe, "linked/.codex2"))                    // from outside into a root
	roots := []string{outer, ws}
	tests := []struct {
		name     string
		dir      string
		protects bool
		want     string // substring of the reason, "" for none
	}{
		{"outside every root", filepath.Join(safe, "p/.codex/rules"), true, ""},
		{"outside every root, no protection", filepath.Join(safe, "p/.codex/rules"), false, ""},
		{"a root's own .codex, protected", filepath.Join(ws, ".codex/rules"), true, ""},
		{"a root's own .codex, unprotected", filepath.Join(ws, ".codex/rules"), false, ws + "/.codex/rules is inside the writable root " + outer},
		{"a .codex below a root", filepath.Join(ws, "sub/.codex/rules"), true, ws + "/sub/.codex/rules is inside the writable root " + outer},
		{"reached through a symlink in a root", filepath.Join(ws, "link/.codex/rules"), true, "through the symbolic link " + filepath.Join(ws, "link")},
		{"a symlink out of safety into a root", filepath.Join(safe, "linked/.codex2/rules"), true, ws + "/sub/.codex/rules is inside the writable root " + outer},
		{"a rules file linked into a root", filepath.Join(safe, "byfile/.codex/rules"), true, outer + "/planted.rules is inside the writable root " + outer},
		{"missing", filepath.Join(safe, "gone/.codex/rules"), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			real, got := sandboxCanChange(tt.dir, roots, tt.protects)
			if (got == "") != (tt.want == "") || !strings.Contains(got, tt.want) {
				t.Errorf("sandboxCanChange(%s) = %q, want %q", tt.dir, got, tt.want)
			}
			if want, err := filepath.EvalSymlinks(tt.dir); got == "" && err == nil && real != want {
				t.Errorf("sandboxCanChange(%s) resolved to %q, want %q", tt.dir, real, want)
			}
			if (got != "" || tt.name == "missing") && real != "" {
				t.Errorf("sandboxCanChange(%s) = %q with a reason or nothing to resolve", tt.dir, real)
			}
		})
	}
}

// BenchmarkProjectStore is what the project layer adds to each call:
// finding the project from the workdir, checking its rules directories
// against the call's writable roots, and the cache lookup.
func BenchmarkProjectStore(b *testing.B) {
	root := testhelp.PrivateDir(b)
	P := filepath.Join(root, "P")
	if err := os.MkdirAll(filepath.Join(P, ".git"), 0o755); err != nil {
		b.Fatal(err)
	}
	for _, f := range []string{"P/.codex/rules/p.rules", "P/a/b/.codex/rules/b.rules"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, f)), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, f), []byte(`prefix_rule(pattern=["echo"], decision="forbidden")`+"\n"), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	deep := filepath.Join(P, "a/b/c/d/e/f")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		b.Fatal(err)
	}
	te := newTestEngine(b, "", trustProjects(map[string]string{P: "trusted"}))
	ws := b.TempDir()
	spec, _ := te.spec(&Call{Workspace: []string{ws}, Workdir: ws}, testhelp.Logger(nil))
	roots, err := trustRoots(spec)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, workdir string }{
		{"no project", ws},
		{"two rules dirs, depth 8", deep},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := te.projectStore(context.Background(), c.workdir, roots); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// `execgate doctor` reports a broken shared rules file also when the
// sandbox roots of the server's directory cannot be worked out (and so its
// project rules cannot be looked up): both errors are shown.
func TestEngineReportKeepsRulesError(t *testing.T) {
	root := testhelp.PrivateDir(t)
	ws, elsewhere := filepath.Join(root, "ws"), filepath.Join(root, "elsewhere")
	for _, d := range []string{ws, filepath.Join(elsewhere, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A writable root reached through a symlink inside the workspace (a
	// writable root itself) is refused.
	if err := os.Symlink(elsewhere, filepath.Join(ws, "link")); err != nil {
		t.Fatal(err)
	}
	te := newTestEngine(t, `prefix_rule(pattern=["ls"], decision="allow")`+"\n", func(o *Options) {
		o.WritableRoots = []string{filepath.Join(ws, "link", "sub")}
	})
	te.cwd = ws
	testhelp.WriteFile(t, filepath.Join(te.home, "rules", "test.rules"), "prefix_rule(\n")
	time.Sleep(rulesCheckInterval + 50*time.Millisecond) // past the change checks' rate limit
	var b strings.Builder
	te.Report(&b)
	for _, w := range []string{"rules not reloaded, keeping the previous policy", "goes through symlink"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("report lacks %q:\n%s", w, b.String())
		}
	}
}

// trustProjects is an edit for newTestEngine writing the project trust
// levels into the configuration home (EXECGATE_HOME, set before edit runs).
func trustProjects(levels map[string]string) func(*Options) {
	return func(*Options) { testhelp.TrustProjects(levels) }
}
