// Package output collects what a shell call prints into a bounded, valid
// UTF-8 result.
//
// A call's stdout and stderr share one pipe (so they interleave as on a
// terminal); whatever drains that pipe writes into a Capture. The Capture
// never rejects a write, so the command is never blocked or killed by EPIPE
// because of the result size, and its memory stays near the configured cap
// however much the command prints: beyond the cap only the head and the tail
// are kept, around a "[... N bytes omitted ...]" line.
package output

import (
	"fmt"
	"io"
	"sync"
	"unicode/utf8"
)

// DefaultLimit is the default number of output bytes kept (head + tail).
const DefaultLimit = 1 << 20

// Capture is an io.Writer that keeps at most Limit bytes of sanitized output.
// It is safe for concurrent use.
type Capture struct {
	mu      sync.Mutex
	limit   int
	san     sanitizer
	head    []byte // first limit/2 clean bytes
	tail    ring   // last limit-limit/2 clean bytes; allocated on first overflow so small outputs cost only what they print
	total   int64  // clean bytes seen
	tee     io.Writer
	teeErr  error
	scratch []byte
}

// Option configures a Capture.
type Option func(*Capture)

// WithTee copies every raw (unsanitized) chunk to w as it arrives, e.g. the
// terminal for `execgate run`. A failing tee is dropped after its first error
// (reported by TeeErr) rather than failing the capture: the result must not
// depend on whether anyone is watching.
func WithTee(w io.Writer) Option {
	return func(c *Capture) { c.tee = w }
}

// NewCapture returns a Capture keeping at most limit bytes (DefaultLimit if
// limit <= 0) plus the omission line.
func NewCapture(limit int, opts ...Option) *Capture {
	if limit <= 0 {
		limit = DefaultLimit
	}
	c := &Capture{limit: limit}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Write implements io.Writer. It always reports len(p), nil.
func (c *Capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tee != nil {
		if _, err := c.tee.Write(p); err != nil {
			c.teeErr = fmt.Errorf("output tee: %w", err)
			c.tee = nil
		}
	}
	c.scratch = c.san.appendClean(c.scratch[:0], p)
	c.keep(c.scratch)
	// Do not let one huge write pin a huge scratch buffer.
	if cap(c.scratch) > 64<<10 {
		c.scratch = nil
	}
	return len(p), nil
}

// keep stores clean bytes into head, then the tail ring.
func (c *Capture) keep(b []byte) {
	c.total += int64(len(b))
	headCap := c.limit / 2
	if n := headCap - len(c.head); n > 0 {
		if n > len(b) {
			n = len(b)
		}
		if len(c.head)+n > cap(c.head) {
			// Grow geometrically but never past headCap, so Retained stays
			// within the limit.
			grown := make([]byte, len(c.head), min(headCap, max(2*cap(c.head), len(c.head)+n, 4096)))
			copy(grown, c.head)
			c.head = grown
		}
		c.head = append(c.head, b[:n]...)
		b = b[n:]
	}
	if len(b) == 0 {
		return
	}
	if c.tail.buf == nil {
		c.tail.buf = make([]byte, c.limit-headCap)
	}
	c.tail.write(b)
}

// TeeErr reports the error that stopped the tee, if any.
func (c *Capture) TeeErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.teeErr
}

// Total is the number of sanitized bytes written so far (including omitted ones).
func (c *Capture) Total() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total + int64(c.san.pendingLen())
}

// Retained is the number of buffer bytes the Capture holds (for tests and
// metrics): it never exceeds the limit plus a few bytes of a partial rune.
func (c *Capture) Retained() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return cap(c.head) + cap(c.tail.buf) + c.san.pendingLen()
}

// String returns the output so far: valid UTF-8, at most the limit plus the
// omission line. A rune split across writes and not yet completed is shown
// as U+FFFD per byte, as it would be if the stream ended there; String does
// not consume it, so a later Write can still complete it.
func (c *Capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var pend []byte
	for range c.san.pendingLen() {
		pend = utf8.AppendRune(pend, utf8.RuneError)
	}
	head := c.head
	total := c.total + int64(len(pend))
	if c.tail.buf == nil {
		// Everything fits in head; pend may push it over by a few bytes, which
		// the limit tolerates (it is at most 3 replacement characters).
		return string(head) + string(pend)
	}
	tail := append(c.tail.bytes(), pend...)
	if c.total <= int64(c.limit) {
		// Nothing dropped yet: head and tail are contiguous.
		return string(head) + string(tail)
	}
	// Cut at rune boundaries so both halves stay valid UTF-8.
	h := runeFloor(head)
	t := runeCeil(tail)
	kept := len(h) + len(tail) - t
	omitted := total - int64(kept)
	if omitted == 0 {
		return string(h) + string(tail[t:])
	}
	return fmt.Sprintf("%s\n[... %d bytes omitted ...]\n%s", h, omitted, tail[t:])
}

// runeFloor trims a trailing incomplete rune from valid-UTF-8-prefix b.
func runeFloor(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			return b
		}
	}
	return b
}

// runeCeil returns the index of the first rune start in b (len(b) if b
// holds only the continuation bytes of a rune whose start was dropped).
func runeCeil(b []byte) int {
	for i := 0; i < len(b) && i < utf8.UTFMax; i++ {
		if utf8.RuneStart(b[i]) {
			return i
		}
	}
	return min(len(b), utf8.UTFMax-1)
}
