package engine

import (
	"sync"
	"time"
)

// Budget is a call's running-time allowance: a stopwatch that can be paused
// (while the user is being asked about a command, which must not eat the
// command's timeout) and that signals once the running time exceeds the
// limit. Pauses nest: concurrent prompts in one call each Pause and Resume.
type Budget struct {
	mu      sync.Mutex
	limit   time.Duration
	used    time.Duration // running time before the current running segment
	started time.Time     // start of the current running segment; zero while paused
	paused  int
	timer   *time.Timer
	expired chan struct{}
	done    bool
}

// NewBudget starts a running Budget of limit (<= 0 expires at once).
func NewBudget(limit time.Duration) *Budget {
	b := &Budget{limit: limit, expired: make(chan struct{})}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.started = time.Now()
	b.arm()
	return b
}

// Expired is closed once the running time reaches the limit.
func (b *Budget) Expired() <-chan struct{} { return b.expired }

// Used is the running time so far (paused time excluded).
func (b *Budget) Used() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.usedLocked()
}

// Pause stops the clock until the matching Resume.
func (b *Budget) Pause() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.paused++
	if b.paused > 1 || b.done {
		return
	}
	b.used += time.Since(b.started)
	b.started = time.Time{}
	if b.timer != nil {
		b.timer.Stop()
	}
}

// Resume undoes one Pause; the clock runs again when every Pause is undone.
func (b *Budget) Resume() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.paused == 0 {
		return
	}
	b.paused--
	if b.paused > 0 || b.done {
		return
	}
	b.started = time.Now()
	b.arm()
}

// Stop releases the timer; Expired will not fire afterwards.
func (b *Budget) Stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.timer != nil {
		b.timer.Stop()
	}
	b.paused = 1 << 30 // never runs again
}

func (b *Budget) usedLocked() time.Duration {
	u := b.used
	if !b.started.IsZero() {
		u += time.Since(b.started)
	}
	return u
}

// arm schedules the expiry check for the remaining time; b.mu is held.
func (b *Budget) arm() {
	left := b.limit - b.usedLocked()
	if left <= 0 {
		b.expire()
		return
	}
	if b.timer == nil {
		b.timer = time.AfterFunc(left, b.check)
	} else {
		b.timer.Reset(left)
	}
}

// check runs on the timer. A Pause racing the timer may have stopped the
// clock short of the limit, so the remaining time is recomputed.
func (b *Budget) check() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done || b.paused > 0 {
		return
	}
	b.arm()
}

func (b *Budget) expire() {
	if !b.done {
		b.done = true
		close(b.expired)
	}
}
