package server

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// idleMemory hands the memory a burst of work left behind back to the
// system once the server is idle. Go's own scavenger returns free heap
// only down to a goal set by the last collection, and an idle server
// allocates nothing that would start one: after a large request the
// process stays at its peak for minutes. So, after every interval in
// which no request was served, if the heap holds more than slack of
// memory it may not need (worthTrimming), idleMemory collects and returns
// it (debug.FreeOSMemory: about a millisecond for this server's heap). A busy
// server is left to the runtime, even one with gaps between its requests:
// memory returned there only comes back as page faults on the next
// requests, and a first touch of a page cost 10 µs on the test VM. An idle
// one settles within two intervals.
type idleMemory struct {
	busy     atomic.Int64 // requests being served
	started  atomic.Int64 // requests started so far
	interval time.Duration
	slack    uint64
}

// worthTrimming reports whether a heap of objects bytes (live and dead
// objects not yet swept), of which live bytes were live at the last
// collection, with free bytes free but not returned, holds more than
// slack the server may not need. Garbage measured against the last
// collection is not enough: an idle server makes no collection, so a
// buffer that was live at the last one (a large request being read) and
// dropped since would never count. Growth since the heap was last trimmed
// (trimmed, its object bytes right after that full collection) does. An
// idle heap does not grow, so this trims once after a burst, not at every
// interval.
func worthTrimming(objects, live, free, trimmed, slack uint64) bool {
	var garbage uint64
	if objects > live {
		garbage = objects - live
	}
	return garbage+free > slack || objects > trimmed+slack
}

func newIdleMemory() *idleMemory {
	return &idleMemory{interval: time.Second, slack: 512 << 10}
}

// serving marks a request in progress until the returned func is called:
// one being served (guard), or a long one still arriving (the transport's
// Reading). A heap trimmed while a large request was arriving would take
// the request's buffer for what an idle server keeps, and never trim it
// once the request had been refused.
func (m *idleMemory) serving() func() {
	m.started.Add(1)
	m.busy.Add(1)
	return func() { m.busy.Add(-1) }
}

// look is what quiet saw: requests started so far, and whether one was
// being served.
type look struct {
	started int64
	busy    bool
}

// quiet reports whether no request was served since the last look, *last
// (which it updates): none started since, none in progress then or now.
func (m *idleMemory) quiet(last *look) bool {
	now := look{started: m.started.Load(), busy: m.busy.Load() > 0}
	q := now.started == last.started && !last.busy && !now.busy
	*last = now
	return q
}

// run trims until ctx ends.
func (m *idleMemory) run(ctx context.Context) {
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
	}
	t := time.NewTicker(m.interval)
	defer t.Stop()
	var last look
	var trimmed uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !m.quiet(&last) {
			continue
		}
		metrics.Read(samples)
		objects, live, free := samples[0].Value.Uint64(), samples[1].Value.Uint64(), samples[2].Value.Uint64()
		if worthTrimming(objects, live, free, trimmed, m.slack) {
			debug.FreeOSMemory()
			metrics.Read(samples[:1])
			trimmed = samples[0].Value.Uint64()
		}
	}
}
