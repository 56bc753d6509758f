//go:build linux

package testbash

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// A Bash starts for every call; linked dynamically, a third of its start is
// the dynamic loader's. Where a static program links, the build must have
// linked the patched Bash statically: no program interpreter.
func TestPatchedBashIsStaticWhereLibcAllows(t *testing.T) {
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler: cannot tell whether a static libc is there")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "t.c")
	if err := os.WriteFile(src, []byte("int main(void){return 0;}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cc, "-static", "-o", filepath.Join(dir, "t"), src).CombinedOutput(); err != nil {
		t.Skipf("no static C library here (%v: %s): the build links Bash dynamically", err, out)
	}
	bash := Path(t)
	f, err := elf.Open(bash)
	if err != nil {
		t.Fatalf("open %s: %v", bash, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatalf("%s is dynamically linked (it has a program interpreter), although a static libc is available here", bash)
		}
	}
}
