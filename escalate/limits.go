package escalate

import (
	"fmt"
	"sync"
)

// Anything inside a call can open exec streams, send frames and ask for
// escalations as fast as it likes. Each costs the server memory, a
// descriptor and a goroutine (an escalation also a process), so a call and
// the server as a whole hold only so many at once; beyond that an exec is
// refused with an error answer, which the wrapper reports before exiting
// 126, and nothing is queued.
//
// The per-call bounds are far above what a script needs (every exec holds a
// stream only while it waits for its answer, or, escalated, while it runs)
// and low enough that one call cannot take the server's share alone.
const (
	callStreams      = 128
	callEscalations  = 64
	callRequestBytes = 16 << 20 // four maximal requests at once
	// callRefusing bounds the refused streams kept until their request
	// arrives (see Session.refuse); a new one evicts the oldest.
	callRefusing = 32

	serverStreams      = 512
	serverEscalations  = 256
	serverRequestBytes = 32 << 20
)

// Limits bound what the sessions sharing them hold at once: give every
// session of a server the same *Limits (Options.Limits). The zero value
// uses the defaults above; a field set to a positive number replaces its
// default.
type Limits struct {
	// Streams bounds the exec streams open in all sessions together.
	Streams int
	// Escalations bounds the escalated commands running.
	Escalations int
	// RequestBytes bounds the bytes of request frames being read.
	RequestBytes int64

	streams, escalations, bytes quota
	once                        sync.Once
}

func (l *Limits) init() {
	l.once.Do(func() {
		l.streams.max = orDefault(int64(l.Streams), serverStreams)
		l.escalations.max = orDefault(int64(l.Escalations), serverEscalations)
		l.bytes.max = orDefault(l.RequestBytes, serverRequestBytes)
	})
}

func orDefault(v, def int64) int64 {
	if v > 0 {
		return v
	}
	return def
}

// quota counts units of one resource against a maximum.
type quota struct {
	mu       sync.Mutex
	max, use int64
}

func (q *quota) take(n int64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.use+n > q.max {
		return false
	}
	q.use += n
	return true
}

func (q *quota) give(n int64) {
	q.mu.Lock()
	q.use -= n
	q.mu.Unlock()
}

// bounds are one session's quotas and the server's it draws on too.
type bounds struct {
	server                      *Limits
	streams, escalations, bytes quota
}

func newBounds(server *Limits) *bounds {
	if server == nil {
		server = &Limits{}
	}
	server.init()
	b := &bounds{server: server}
	b.streams.max = callStreams
	b.escalations.max = callEscalations
	b.bytes.max = callRequestBytes
	return b
}

// limitError is an exec refused for a bound: the wrapper prints it and
// exits 126.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

// acquire takes n units from the call's quota and the server's, or neither.
func acquire(call, server *quota, n int64, what string) error {
	if !call.take(n) {
		return &limitError{fmt.Sprintf("too many %s at once in this call (limit %d); not run", what, call.max)}
	}
	if !server.take(n) {
		call.give(n)
		return &limitError{fmt.Sprintf("too many %s at once in this execgate server (limit %d, shared by every call); not run", what, server.max)}
	}
	return nil
}

func (b *bounds) takeStream() error {
	return acquire(&b.streams, &b.server.streams, 1, "exec streams open")
}

func (b *bounds) giveStream() {
	b.streams.give(1)
	b.server.streams.give(1)
}

func (b *bounds) takeEscalation() error {
	return acquire(&b.escalations, &b.server.escalations, 1, "escalated commands running")
}

func (b *bounds) giveEscalation() {
	b.escalations.give(1)
	b.server.escalations.give(1)
}

func (b *bounds) TakeBytes(n int) error {
	return acquire(&b.bytes, &b.server.bytes, int64(n), "request bytes being received")
}

func (b *bounds) GiveBytes(n int) {
	b.bytes.give(int64(n))
	b.server.bytes.give(int64(n))
}
