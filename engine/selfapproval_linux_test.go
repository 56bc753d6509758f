package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/execgate/execgate/internal/testbash"
	"github.com/execgate/execgate/internal/testhelp"
	"github.com/execgate/execgate/policy"
)

func TestSandboxCanWrite(t *testing.T) {
	root, outside := testhelp.PrivateDir(t), testhelp.PrivateDir(t)
	link := func(target, name string) string {
		t.Helper()
		if err := os.Symlink(target, name); err != nil {
			t.Fatal(err)
		}
		return name
	}
	write := func(p string) string {
		t.Helper()
		testhelp.WriteFile(t, p, "")
		return p
	}
	inRoot := write(filepath.Join(root, "in.rules"))
	out := write(filepath.Join(outside, "out.rules"))
	write(filepath.Join(root, ".codex", "rules", "x.rules"))
	tests := []struct {
		name     string
		path     string
		protects bool
		want     string // a part of the reason; "" for none
	}{
		{"file in a root", inRoot, false, "is inside the writable root " + root},
		{"missing file in a root", filepath.Join(root, "no", "such.rules"), false, "is inside the writable root " + root},
		{"file outside", out, false, ""},
		{"missing file outside", filepath.Join(outside, "no", "such.rules"), false, ""},
		{"link outside into a root", link(inRoot, filepath.Join(outside, "to-root")), false, "resolves to " + inRoot + ", inside the writable root " + root},
		{"dangling link outside into a root", link(filepath.Join(root, "later"), filepath.Join(outside, "dangling")), false, "resolves to " + filepath.Join(root, "later")},
		{"directory link outside into a root", filepath.Join(link(root, filepath.Join(outside, "rootdir")), "in.rules"), false, "resolves to " + inRoot},
		{"link in a root to outside", link(out, filepath.Join(root, "to-out")), false, "reached through the symlink " + filepath.Join(root, "to-out") + " inside the writable root " + root},
		{"protected .codex of a root", filepath.Join(root, ".codex", "rules", "x.rules"), true, ""},
		{"unprotected .codex of a root", filepath.Join(root, ".codex", "rules", "x.rules"), false, "is inside the writable root " + root},
		{"link loop", link("loop", filepath.Join(outside, "loop")), false, "too many levels of symbolic links"},
	}
	for _, tt := range tests {
		got := sandboxCanWrite(tt.path, []string{root}, tt.protects)
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("%s: sandboxCanWrite(%s) = %q, want %q", tt.name, tt.path, got, tt.want)
		}
	}
}

// TestEngineRefusesWritablePolicyFiles: a config, rules or requirements
// file that the configured sandbox could write stops the engine, with an
// error naming the file and the root.
func TestEngineRefusesWritablePolicyFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, root string, o *Options) string // returns the file to be named
	}{
		{"home in a writable root", func(t *testing.T, root string, o *Options) string {
			home := filepath.Join(root, "codex")
			testhelp.WriteFile(t, filepath.Join(home, "rules", "a.rules"), "")
			t.Setenv("EXECGATE_HOME", home)
			return filepath.Join(home, "rules") // the directory: any file in it, or added to it
		}},
		{"rules file symlinked into a writable root", func(t *testing.T, root string, o *Options) string {
			home := testhelp.PrivateDir(t)
			testhelp.WriteFile(t, filepath.Join(root, "shared.rules"), "")
			link := filepath.Join(home, "rules", "shared.rules")
			if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(root, "shared.rules"), link); err != nil {
				t.Fatal(err)
			}
			t.Setenv("EXECGATE_HOME", home)
			return link
		}},
		{"--rules in a writable root", func(t *testing.T, root string, o *Options) string {
			f := filepath.Join(root, "extra.rules")
			testhelp.WriteFile(t, f, "")
			o.Rules = []string{f}
			return f
		}},
		{"requirements in a writable root", func(t *testing.T, root string, o *Options) string {
			o.systemDir = filepath.Join(root, "etc-codex")
			return filepath.Join(o.systemDir, "requirements.toml") // need not exist: the sandbox could create it
		}},
		{"config reached through a symlink in a writable root", func(t *testing.T, root string, o *Options) string {
			testhelp.WriteFile(t, filepath.Join(root, "real", "config.toml"), "")
			home := testhelp.PrivateDir(t)
			if err := os.Symlink(filepath.Join(root, "real", "config.toml"), filepath.Join(home, "config.toml")); err != nil {
				t.Fatal(err)
			}
			t.Setenv("EXECGATE_HOME", home)
			return filepath.Join(home, "config.toml")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("EXECGATE_HOME", testhelp.PrivateDir(t))
			root := testhelp.PrivateDir(t)
			opts := DefaultOptions()
			opts.Bash, opts.Explicit["bash"] = testbash.Path(t), true
			opts.WritableRoots, opts.Explicit["writable-root"] = []string{root}, true
			file := tc.setup(t, root, opts)
			e, err := newEngine(opts, testhelp.Logger(nil), testhelp.Execgate(t))
			if err == nil {
				e.Close()
				t.Fatalf("the engine started with %s in the writable root %s", file, root)
			}
			if !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "writable root "+root) {
				t.Errorf("error %q does not name %s and the root %s", err, file, root)
			}
		})
	}
}

// TestCallRefusedWhenWorkspaceHoldsPolicyFiles: a call whose workspace
// holds the configuration home (known only per call) fails before its
// script runs, naming the file and the root. Since it never ran, a later
// call elsewhere is not held to its workspace.
func TestCallRefusedWhenWorkspaceHoldsPolicyFiles(t *testing.T) {
	te := newTestEngine(t, `prefix_rule(pattern=["git"], decision="allow")`+"\n", nil)
	marker := filepath.Join(testhelp.PrivateDir(t), "ran")
	parent := filepath.Dir(te.home)
	call := func(ws string) error {
		_, err := Execute(context.Background(), te, te.opts, nil, Request{ID: "c", Command: "touch " + marker,
			Workdir: ws, Workspace: []string{ws}})
		return err
	}
	err := call(parent)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(te.home, "rules")) || !strings.Contains(err.Error(), "writable root "+parent) {
		t.Errorf("call in %s: err %v, want one naming the rules directory and the root", parent, err)
	}
	if testhelp.Exists(marker) {
		t.Error("the refused call's script ran")
	}
	// The refused call never ran, so its workspace is not remembered.
	if err := call(testhelp.PrivateDir(t)); err != nil {
		t.Errorf("a call elsewhere after a refused one: %v", err)
	}
}

// TestRulesReloadRefusesWritableFile: a rules file that becomes writable by
// the sandbox after startup (here a symlink in the rules directory
// re-pointed into a directory an earlier call could write) is not
// reloaded: the last good policy stays, and the error names the file.
func TestRulesReloadRefusesWritableFile(t *testing.T) {
	safe := testhelp.PrivateDir(t)
	testhelp.WriteFile(t, filepath.Join(safe, "x.rules"), `prefix_rule(pattern=["git", "status"], decision="allow")`+"\n")
	te := newTestEngine(t, "", nil)
	link := filepath.Join(te.home, "rules", "x.rules")
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(safe, "x.rules"), link); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	time.Sleep(rulesCheckInterval + 50*time.Millisecond)
	if p, err := te.stores.base.Policy(ctx); err != nil || p.Len() != 1 {
		t.Fatalf("the safe rules file was not loaded: %d rules, %v", p.Len(), err)
	}

	earlier := testhelp.PrivateDir(t) // an earlier call's writable root
	te.roots.add([]string{earlier})
	evil := filepath.Join(earlier, "x.rules")
	testhelp.WriteFile(t, evil, `prefix_rule(pattern=["sh"], decision="allow")`+"\n"+`prefix_rule(pattern=["bash"], decision="allow")`+"\n")
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(evil, link); err != nil {
		t.Fatal(err)
	}
	time.Sleep(rulesCheckInterval + 50*time.Millisecond)
	p, err := te.stores.base.Policy(ctx)
	if err == nil || !strings.Contains(err.Error(), link) || !strings.Contains(err.Error(), "writable root "+earlier) {
		t.Errorf("reload error %v, want one naming %s and the root %s", err, link, earlier)
	}
	if p.Len() != 1 {
		t.Errorf("the policy has %d rules, want the last good one's 1", p.Len())
	}
	if v := p.Evaluate(policy.Exec{Program: "/bin/sh", Args: []string{"-c", "x"}}); v.Decision == policy.Allow {
		t.Error("the rule written where the sandbox can write is in force")
	}
}

// TestAmendTargetRefused: "always allow" does not write into a rules file
// that an earlier call's sandbox could write.
func TestAmendTargetRefused(t *testing.T) {
	te := newTestEngine(t, "", nil)
	if err := te.checkAmendTarget(); err != nil {
		t.Fatalf("a private home refused: %v", err)
	}
	te.roots.add([]string{te.home})
	err := te.checkAmendTarget()
	if err == nil || !strings.Contains(err.Error(), policy.DefaultRulesFile(te.home)) || !strings.Contains(err.Error(), "writable root "+te.home) {
		t.Errorf("err %v, want one naming %s and the root", err, policy.DefaultRulesFile(te.home))
	}
}

// BenchmarkCheckPolicyFiles is the per-call cost of the self-approval check.
func BenchmarkCheckPolicyFiles(b *testing.B) {
	te := newTestEngine(b, `prefix_rule(pattern=["git"], decision="allow")`+"\n", nil)
	roots := te.roots.with([]string{testhelp.PrivateDir(b)})
	for b.Loop() {
		if err := te.checkPolicyFiles(roots); err != nil {
			b.Fatal(err)
		}
	}
}
