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
// process stays at its peak for minutes. So, every interval with no
// request being served, if the heap holds more than slack of garbage and
// free, unreturned memory, idleMemory collects and returns it
// (debug.FreeOSMemory: about a millisecond for this server's heap). A busy
// server is left to the runtime; an idle one settles within two intervals
// and is not woken again until it has work.
type idleMemory struct {
	busy     atomic.Int64 // requests being served
	interval time.Duration
	slack    uint64
}

func newIdleMemory() *idleMemory {
	return &idleMemory{interval: time.Second, slack: 512 << 10}
}

// serving marks a request in progress until the returned func is called.
func (m *idleMemory) serving() func() {
	m.busy.Add(1)
	return func() { m.busy.Add(-1) }
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
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if m.busy.Load() > 0 {
			continue
		}
		metrics.Read(samples)
		objects, live, free := samples[0].Value.Uint64(), samples[1].Value.Uint64(), samples[2].Value.Uint64()
		var garbage uint64
		if objects > live {
			garbage = objects - live
		}
		if garbage+free > m.slack {
			debug.FreeOSMemory()
		}
	}
}
