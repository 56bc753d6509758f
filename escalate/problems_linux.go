package escalate

import (
	"log/slog"
	"sync"
)

// problems counts what peers do wrong in one session: malformed handshakes
// and frames, refused streams. Anything in the sandbox can cause them as
// fast as it likes, so only the first is logged when it happens; the total
// is logged once when the session ends.
type problems struct {
	log *slog.Logger

	mu    sync.Mutex
	count int
	first string
}

// problem records one problem; err and attrs describe it.
func (s *Session) problem(msg string, err error, attrs ...any) {
	s.problems.note(msg, err, attrs...)
}

func (p *problems) note(msg string, err error, attrs ...any) {
	p.mu.Lock()
	p.count++
	first := p.count == 1
	if first {
		p.first = msg
		if err != nil {
			p.first += ": " + err.Error()
		}
	}
	p.mu.Unlock()
	if !first {
		return
	}
	if err != nil {
		attrs = append([]any{"err", err}, attrs...)
	}
	p.log.Warn("escalate: "+msg+" (further protocol problems in this call are only counted)", attrs...)
}

// summary logs how many problems the session had, if more than the one
// already logged.
func (p *problems) summary() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.count > 1 {
		p.log.Warn("escalate: protocol problems in this call", "count", p.count, "first", p.first)
	}
}
