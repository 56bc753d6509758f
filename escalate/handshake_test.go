package escalate

import (
	"os"
	"strings"
	"testing"

	"github.com/execgate/execgate/internal/frame"
	"golang.org/x/sys/unix"

	"github.com/execgate/execgate/internal/testhelp"
)

func dgramPair(t testing.TB) (server, child int) {
	t.Helper()
	p, err := frame.Socketpair(unix.SOCK_DGRAM)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[0], p[1]
}

func TestHandshake(t *testing.T) {
	server, child := dgramPair(t)
	wrapperEnd, err := Dial(child)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(wrapperEnd)
	serverEnd, err := ReceiveHandshake(server)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(serverEnd)
	testhelp.CheckCloexec(t, "wrapper's stream end", wrapperEnd)
	testhelp.CheckCloexec(t, "stream end received by the server", serverEnd)
	go frame.Write(wrapperEnd, []byte("ping"), nil)
	got, _, err := frame.Read(serverEnd)
	if err != nil || string(got) != "ping" {
		t.Fatalf("stream after handshake: %q, %v", got, err)
	}
}

func TestHandshakeRejectsMalformed(t *testing.T) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	stream := func() int {
		a, _ := streamPair(t)
		return a
	}
	tests := []struct {
		name string
		msg  []byte
		fds  func() []int
		want string
	}{
		{"no fd", []byte{0}, func() []int { return nil }, "exactly 1 fd, got 0"},
		{"two fds", []byte{0}, func() []int { return []int{stream(), stream()} }, "exactly 1 fd, got 2"},
		{"wrong byte", []byte{7}, func() []int { return []int{stream()} }, "must be 0x00"},
		{"long datagram", []byte("garbage"), func() []int { return []int{stream()} }, "must be 1 byte"},
		{"empty datagram", []byte{}, func() []int { return []int{stream()} }, "must be 1 byte, got 0"},
		{"not a socket", []byte{0}, func() []int { return []int{int(devnull.Fd())} }, "not a stream socket"},
		{"datagram socket", []byte{0}, func() []int { a, _ := dgramPair(t); return []int{a} }, "not a stream socket (socket type 2)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server, child := dgramPair(t)
			var oob []byte
			if fds := tc.fds(); len(fds) > 0 {
				oob = unix.UnixRights(fds...)
			}
			before := testhelp.OpenFds(t)
			if err := unix.Sendmsg(child, tc.msg, oob, nil, 0); err != nil {
				t.Fatal(err)
			}
			fd, err := ReceiveHandshake(server)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ReceiveHandshake = %d, %v; want error containing %q", fd, err, tc.want)
			}
			if after := testhelp.OpenFds(t); after != before {
				t.Fatalf("fds before %d after %d: rejected handshake leaked", before, after)
			}
			// The socket still serves a good handshake afterwards.
			w, err := Dial(child)
			if err != nil {
				t.Fatal(err)
			}
			unix.Close(w)
			s, err := ReceiveHandshake(server)
			if err != nil {
				t.Fatalf("good handshake after a bad one: %v", err)
			}
			unix.Close(s)
		})
	}
}
