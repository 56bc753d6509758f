package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/execgate/execgate/internal/testhelp"
)

// The whole base of the runtime directory removed (rm -rf ~/.cache/execgate,
// or --runtime-dir's directory) is made again too, private, and a wrapper
// replaced after that is still refused.
func TestEngineRemakesRuntimeDirBase(t *testing.T) {
	base := filepath.Join(testhelp.PrivateDir(t), "rt")
	te := newTestEngine(t, "", func(o *Options) { o.RuntimeDir = base })
	ws := t.TempDir()
	if err := os.RemoveAll(base); err != nil {
		t.Fatal(err)
	}
	if err := te.trivialCall(ws); err != nil {
		t.Fatalf("after removing %s: %v", base, err)
	}
	if !ownedPrivateDir(te.runDir) || abandoned(te.runDir) {
		t.Errorf("%s made again: private %v, abandoned %v; want private and locked", te.runDir, ownedPrivateDir(te.runDir), abandoned(te.runDir))
	}
	if err := os.Remove(te.wrapper); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/bin/true", te.wrapper); err != nil {
		t.Fatal(err)
	}
	if err := te.trivialCall(ws); err == nil || !strings.Contains(err.Error(), "changed since the server started") {
		t.Errorf("after replacing the wrapper: err = %v, want a refusal", err)
	}
}

// What each call pays for the check, against the two stats that were all
// it did before runtime directories were made again.
func BenchmarkCheckHelpers(b *testing.B) {
	te := newTestEngine(b, "", nil)
	b.Run("checkHelpers", func(b *testing.B) {
		for b.Loop() {
			if err := te.checkHelpers(te.log); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stats only", func(b *testing.B) {
		for b.Loop() {
			if err := unchanged("execve wrapper", te.wrapper, te.wrapID); err != nil {
				b.Fatal(err)
			}
			if te.nsexec != "" {
				if err := unchanged("namespace launcher", te.nsexec, te.nsexecID); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
