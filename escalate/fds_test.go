package escalate

import (
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
