package escalate

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSessionIgnoresDestinationAddresses: the shell's end of the session
// socket cannot be used to send to another socket of the host by naming
// it, as a datagram socket could (sendmsg with an address).
func TestSessionIgnoresDestinationAddresses(t *testing.T) {
	dir := t.TempDir()
	victim, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(victim)
	path := dir + "/log"
	if err := unix.Bind(victim, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	s, err := NewSession(fixed(Run, ""), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	child := int(s.ChildFile().Fd())
	err = unix.Sendmsg(child, []byte("forged"), nil, &unix.SockaddrUnix{Name: path}, 0)
	buf := make([]byte, 16)
	if n, _, rerr := unix.Recvfrom(victim, buf, 0); rerr == nil {
		t.Fatalf("the socket at %s received %q through the session socket (sendmsg: %v)", path, buf[:n], err)
	}
}

// TestSessionAfterShellGone: once every copy of the shell's end is closed,
// Serve waits for its context without spinning on end of file (which a
// seqpacket socket reports) or logging rejected handshakes.
func TestSessionAfterShellGone(t *testing.T) {
	var logs syncLog
	s, err := NewSession(fixed(Run, ""), Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CloseChild(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := cpuTime(t)
	go func() { done <- s.Serve(ctx) }()
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Serve returned before its context ended: %v", err)
	default:
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if used := cpuTime(t) - start; used > 150*time.Millisecond {
		t.Errorf("Serve used %v of CPU in 300ms with no peer: it spins", used)
	}
	if logs.String() != "" {
		t.Errorf("logged with no peer:\n%s", logs.String())
	}
}

func cpuTime(t *testing.T) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
