package frame

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/execgate/execgate/internal/testhelp"
)

func streamPair(t testing.TB) (int, int) {
	t.Helper()
	p, err := Socketpair(unix.SOCK_STREAM)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[0], p[1]
}

func TestFrameRoundTrip(t *testing.T) {
	a, b := streamPair(t)
	payloads := [][]byte{{}, []byte(`{"action":"Run"}`), bytes.Repeat([]byte("x"), 300_000)}
	for _, p := range payloads {
		done := make(chan error, 1)
		go func() { done <- Write(a, p, nil) }()
		got, fds, err := Read(b)
		if err != nil {
			t.Fatalf("Read(%d bytes): %v", len(p), err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, p) || len(fds) != 0 {
			t.Fatalf("got %d bytes and fds %v, want %d bytes", len(got), fds, len(p))
		}
	}
}

func TestFramePassesFds(t *testing.T) {
	a, b := streamPair(t)
	f, err := os.CreateTemp(t.TempDir(), "fd")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := Write(a, []byte(`{"fds":[0]}`), []int{int(f.Fd()), int(f.Fd())}); err != nil {
		t.Fatal(err)
	}
	_, fds, err := Read(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(fds) != 2 {
		t.Fatalf("got %d fds, want 2", len(fds))
	}
	for _, fd := range fds {
		testhelp.CheckCloexec(t, "received fd", fd)
		var st1, st2 unix.Stat_t
		unix.Fstat(fd, &st1)
		unix.Fstat(int(f.Fd()), &st2)
		if st1.Ino != st2.Ino {
			t.Errorf("received fd %d is not the file sent", fd)
		}
		unix.Close(fd)
	}
}

func TestFrameErrors(t *testing.T) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	many := make([]int, MaxFds+4)
	for i := range many {
		many[i] = int(devnull.Fd())
	}
	header := func(n uint32) []byte {
		b := make([]byte, 4)
		binary.LittleEndian.PutUint32(b, n)
		return b
	}
	tests := []struct {
		name string
		send func(fd int) error
		want string
	}{
		{"oversized length", func(fd int) error { _, err := unix.Write(fd, header(MaxPayload+1)); return err }, "over the"},
		{"eof in header", func(fd int) error { _, err := unix.Write(fd, []byte{1, 0}); return err }, "inside a frame header"},
		{"eof in payload", func(fd int) error { _, err := unix.Write(fd, append(header(10), "abc"...)); return err }, "closed inside a 10-byte frame"},
		{"too many fds", func(fd int) error {
			return unix.Sendmsg(fd, append(header(2), "{}"...), unix.UnixRights(many...), nil, 0)
		}, "more than 16 fds"},
		{"fds mid-frame", func(fd int) error {
			if _, err := unix.Write(fd, append(header(4), "ab"...)); err != nil {
				return err
			}
			return unix.Sendmsg(fd, []byte("cd"), unix.UnixRights(int(devnull.Fd())), nil, 0)
		}, "middle of a frame"},
		{"clean close", func(fd int) error { return nil }, "closed by peer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := streamPair(t)
			if err := tc.send(a); err != nil {
				t.Fatal(err)
			}
			unix.Shutdown(a, unix.SHUT_WR)
			_, fds, err := Read(b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Read error = %v, want it to contain %q (fds %v)", err, tc.want, fds)
			}
		})
	}
	if err := Write(-1, make([]byte, MaxPayload+1), nil); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("oversized Write: %v", err)
	}
	if err := Write(-1, nil, many); err == nil || !strings.Contains(err.Error(), "exceed the limit") {
		t.Errorf("Write with too many fds: %v", err)
	}
	_, _, err = Read(-1)
	if err == nil || errors.Is(err, ErrClosed) {
		t.Errorf("Read on a bad fd: %v", err)
	}
}

func TestFrameErrorsLeakNoFds(t *testing.T) {
	// Opened before counting: the first os.Open also creates the netpoller's
	// two descriptors, which are not a leak.
	devnull, _ := os.Open(os.DevNull)
	before := testhelp.OpenFds(t) - 1
	a, b := streamPair(t)
	hdr := make([]byte, 4)
	binary.LittleEndian.PutUint32(hdr, MaxPayload+1)
	unix.Sendmsg(a, hdr, unix.UnixRights(int(devnull.Fd()), int(devnull.Fd())), nil, 0)
	if _, _, err := Read(b); err == nil {
		t.Fatal("oversized frame accepted")
	}
	devnull.Close()
	unix.Close(a)
	unix.Close(b)
	if after := testhelp.OpenFds(t); after > before {
		t.Fatalf("fds open before %d, after %d: a rejected frame leaked its fds", before, after)
	}
}
