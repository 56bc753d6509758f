package server

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

// DecisionLog reports exec decisions: each one at info level on the logger
// and, if an audit file is configured, as one JSON line appended to it.
type DecisionLog struct {
	log   *slog.Logger
	mu    sync.Mutex
	audit io.Writer // nil: no audit file
	now   func() time.Time
}

// NewDecisionLog returns a DecisionLog writing to log and, if audit is non-nil, to audit.
func NewDecisionLog(log *slog.Logger, audit io.Writer) *DecisionLog {
	return &DecisionLog{log: log, audit: audit, now: time.Now}
}

// OpenAuditLog opens path for appending decisions (created 0600: argv may
// hold secrets).
func OpenAuditLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log %s: %w", path, err)
	}
	return f, nil
}

type auditRecord struct {
	Time string `json:"time"`
	Call string `json:"call"`
	Decision
}

// Record reports one decision of call callID.
func (l *DecisionLog) Record(callID string, d Decision) {
	l.log.Info("exec decision", "call", callID, "program", d.Program, "argv", d.Argv,
		"decision", string(d.Decision), "rule", d.Rule, "reason", d.Reason)
	if l.audit == nil {
		return
	}
	line, err := json.Marshal(auditRecord{Time: l.now().UTC().Format(time.RFC3339Nano), Call: callID, Decision: d})
	if err != nil {
		l.log.Error("audit log: encoding decision", "call", callID, "error", err)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.audit.Write(append(line, '\n')); err != nil {
		l.log.Error("audit log: write failed", "call", callID, "error", err)
	}
}

// Decisions collects the decisions of one call, reporting each to a DecisionLog.
// The execution engine calls Record from any goroutine.
type Decisions struct {
	callID string
	log    *DecisionLog
	mu     sync.Mutex
	list   []Decision
}

// NewDecisions returns the collector for call callID.
func NewDecisions(callID string, log *DecisionLog) *Decisions {
	return &Decisions{callID: callID, log: log}
}

// Record adds d to the call's list and reports it.
func (d *Decisions) Record(dec Decision) {
	d.mu.Lock()
	d.list = append(d.list, dec)
	d.mu.Unlock()
	if d.log != nil {
		d.log.Record(d.callID, dec)
	}
}

// List returns the decisions so far, in order.
func (d *Decisions) List() []Decision {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Decision(nil), d.list...)
}
