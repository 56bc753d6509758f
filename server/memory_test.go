package server

import "testing"

// TestIdleMemoryWaitsForAQuietInterval: memory is returned only after an
// interval in which no request ran, not in a gap between two requests of
// a busy server (whose next request would fault the pages in again).
func TestIdleMemoryWaitsForAQuietInterval(t *testing.T) {
	m := newIdleMemory()
	var last look
	if !m.quiet(&last) {
		t.Error("a server that served nothing is not quiet")
	}
	done := m.serving()
	if m.quiet(&last) {
		t.Error("quiet while a request is being served")
	}
	done()
	if m.quiet(&last) {
		t.Error("quiet right after a request, in the interval it ran in")
	}
	if !m.quiet(&last) {
		t.Error("not quiet after an interval without requests")
	}
	m.serving()()
	if m.quiet(&last) {
		t.Error("quiet after an interval in which a short request ran")
	}
}

// TestWorthTrimming: after a burst, memory is returned even when the last
// collection saw the burst's buffer live (an idle server makes no new
// one), and an idle heap that has not grown since the last trim is left
// alone.
func TestWorthTrimming(t *testing.T) {
	const mb, slack = 1 << 20, 512 << 10
	for _, c := range []struct {
		name                         string
		objects, live, free, trimmed uint64
		want                         bool
	}{
		{"garbage since the last collection", 12 * mb, 2 * mb, 0, 2 * mb, true},
		{"free, unreturned heap", 2 * mb, 2 * mb, 8 * mb, 2 * mb, true},
		{"a buffer live at the last collection, dropped since", 12 * mb, 12 * mb, 0, 2 * mb, true},
		{"nothing new since the last trim", 2*mb + 100<<10, 2 * mb, 100 << 10, 2 * mb, false},
		{"grown a little", 2*mb + 400<<10, 2*mb + 400<<10, 0, 2 * mb, false},
	} {
		if got := worthTrimming(c.objects, c.live, c.free, c.trimmed, slack); got != c.want {
			t.Errorf("%s: worthTrimming = %v, want %v", c.name, got, c.want)
		}
	}
}
