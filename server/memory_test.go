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
