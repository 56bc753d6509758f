package leanwrapper

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// residentKB is the Rss /proc/self/smaps reports for the mapping that
// starts at b.
func residentKB(t *testing.T, b []byte) int {
	t.Helper()
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	head := fmt.Sprintf("%x-", uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	in := false
	for _, l := range strings.Split(string(smaps), "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			in = strings.HasPrefix(l, head)
		} else if in && strings.HasPrefix(l, "Rss:") {
			kb, _ := strconv.Atoi(f[1])
			return kb
		}
	}
	t.Fatalf("no mapping at %s in /proc/self/smaps", head)
	return 0
}

// Dropped pages of a private file mapping leave memory and come back from
// the file unchanged, as the executable's embedded wrapper must.
func TestDropPagesOfAPrivateFileMapping(t *testing.T) {
	want := bytes.Repeat([]byte("lean wrapper bytes "), 50000) // ~1 MB
	path := filepath.Join(t.TempDir(), "exe")
	if err := os.WriteFile(path, want, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := unix.Mmap(int(f.Fd()), 0, len(want), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	data := m[100:] // not page-aligned, as an embedded variable need not be
	if !bytes.Equal(data, want[100:]) {
		t.Fatal("mapping differs from the file")
	}
	before := residentKB(t, m)
	dropPages(data)
	after := residentKB(t, m)
	if page := os.Getpagesize() >> 10; after > 2*page || before < len(m)>>10-page {
		t.Errorf("resident %d kB before, %d kB after; want all of it, then at most the 2 partial pages", before, after)
	}
	if !bytes.Equal(m, want) {
		t.Error("contents changed after dropping the pages")
	}
}
