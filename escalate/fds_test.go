package escalate

import (
	"os"
	"testing"

	"github.com/execgate/execgate/internal/frame"
	"golang.org/x/sys/unix"
)

func streamPair(t testing.TB) (int, int) {
	t.Helper()
	p, err := frame.Socketpair(unix.SOCK_STREAM)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[0], p[1]
}

func openFds(t testing.TB) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// checkCloexec fails the test unless fd is close-on-exec.
func checkCloexec(t testing.TB, what string, fd int) {
	t.Helper()
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("%s %d is not close-on-exec (flags %#x, err %v)", what, fd, flags, err)
	}
}
