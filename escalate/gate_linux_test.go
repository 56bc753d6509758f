package escalate

import (
	"context"
	"os"
	"testing"
	"time"
)

// gateSession starts a session whose OnGate reports to the returned channel.
func gateSession(t *testing.T) (*testSession, <-chan Gate) {
	t.Helper()
	gates := make(chan Gate, 2)
	d := DeciderFunc(func(context.Context, Exec) Decision { return Decision{Action: Run} })
	return startSession(t, d, Options{OnGate: func(g Gate) { gates <- g }}), gates
}

func waitGate(t *testing.T, gates <-chan Gate) Gate {
	t.Helper()
	select {
	case g := <-gates:
		return g
	case <-time.After(10 * time.Second):
		t.Fatal("OnGate was not called")
	}
	return Gate{}
}

// TestGateAnnouncement: the listener the helper announces first reaches
// OnGate, and execs are served after it.
func TestGateAnnouncement(t *testing.T) {
	ts, gates := gateSession(t)
	r, w, err := os.Pipe() // any descriptor stands in for the listener
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := AnnounceGate(ts.child, int(r.Fd())); err != nil {
		t.Fatal(err)
	}
	g := waitGate(t, gates)
	if g.Listener == nil || g.Why != "" {
		t.Fatalf("gate %+v, want a listener", g)
	}
	g.Listener.Close()
	if got := ts.decide(t, Request{File: "/bin/true", Argv: []string{"true"}, Workdir: "/"}); got.Action != Run {
		t.Errorf("after the announcement: %+v", got)
	}
	// A second announcement is a bad handshake, not a second gate.
	if err := AnnounceGate(ts.child, int(r.Fd())); err != nil {
		t.Fatal(err)
	}
	if got := ts.decide(t, Request{File: "/bin/true", Argv: []string{"true"}, Workdir: "/"}); got.Action != Run {
		t.Errorf("after a second announcement: %+v", got)
	}
	select {
	case g := <-gates:
		t.Errorf("a later announcement reached OnGate: %+v", g)
	default:
	}
}

// TestNoGateAnnouncement: an announcement without a gate says why; a
// first datagram that is a handshake means the helper announced nothing,
// and that exec is still served.
func TestNoGateAnnouncement(t *testing.T) {
	ts, gates := gateSession(t)
	if err := AnnounceNoGate(ts.child, "kernel too old"); err != nil {
		t.Fatal(err)
	}
	if g := waitGate(t, gates); g.Listener != nil || g.Why != "kernel too old" {
		t.Errorf("gate %+v, want none because the kernel is too old", g)
	}

	ts2, gates2 := gateSession(t)
	if got := ts2.decide(t, Request{File: "/bin/true", Argv: []string{"true"}, Workdir: "/"}); got.Action != Run {
		t.Errorf("first exec without an announcement: %+v", got)
	}
	if g := waitGate(t, gates2); g.Listener != nil || g.Why == "" {
		t.Errorf("gate %+v, want none, with a reason", g)
	}
}
