package frame

import (
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzRead feeds arbitrary bytes to the frame decoder through a real
// socket: it must never panic, never accept more than MaxPayload, and return
// exactly the announced payload when it succeeds.
func FuzzRead(f *testing.F) {
	f.Add([]byte{0x10, 0, 0, 0, '{', '"', 'a', 'c', 't', 'i', 'o', 'n', '"', ':', '"', 'R', 'u', 'n', '"', '}'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{2, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Socketpair(unix.SOCK_STREAM)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(p[1])
		go func() {
			unix.Write(p[0], data)
			unix.Close(p[0])
		}()
		payload, fds, err := Read(p[1])
		if err != nil {
			return
		}
		if len(fds) != 0 {
			t.Fatalf("fds from nowhere: %v", fds)
		}
		if len(payload) > MaxPayload || len(data) < 4+len(payload) || string(data[4:4+len(payload)]) != string(payload) {
			t.Fatalf("payload %q does not match input %q", payload, data)
		}
	})
}
