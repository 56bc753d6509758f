//go:build linux

package testbash

import (
	"bytes"
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

// The namespace launcher starts for every namespaced call; where musl-gcc
// is installed the build links it with musl, whose static start costs a
// quarter of glibc's. A static glibc program always carries its tunables
// parser, which looks for GLIBC_TUNABLES in the environment; a musl one
// has no such string.
func TestNamespaceLauncherLinkedWithMuslWhereAvailable(t *testing.T) {
	if _, err := exec.LookPath("musl-gcc"); err != nil {
		t.Skip("musl-gcc is not installed: the build links the launcher with the system C library")
	}
	if cc := os.Getenv("CC"); cc != "" {
		t.Skipf("CC=%s: the build links the launcher with the compiler named there", cc)
	}
	nsexec := filepath.Join(filepath.Dir(Path(t)), "execgate-nsexec")
	b, err := os.ReadFile(nsexec)
	if err != nil {
		t.Fatalf("read the namespace launcher: %v", err)
	}
	if bytes.Contains(b, []byte("GLIBC_TUNABLES")) {
		t.Fatalf("%s is linked with glibc although musl-gcc is installed (rebuild it: make bash)", nsexec)
	}
}
