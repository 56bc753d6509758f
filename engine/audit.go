package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/execgate/execgate/escalate"
)

// DecisionLog reports exec decisions: each one on the logger and, if an
// audit file is configured, as one JSON line appended to it. A record the
// audit file does not take is counted, logged as an error, and reported
// in the result of the call it belongs to; with Required set (flag
// --audit-required), it also stops that call and has every program start
// denied until a record can be written again.
type DecisionLog struct {
	log   *slog.Logger
	audit *AuditFile // nil: no audit file
	// Required fails calls closed when the audit file cannot be written.
	Required bool
	// Routine is the level of decisions that need no attention (ran,
	// sandboxed or escalated by a rule, without a prompt); denials and
	// decisions a person made are logged at info. Info by default.
	Routine slog.Level
	now     func() time.Time

	lost    atomic.Int64 // records the audit file did not take, since start
	failing atomic.Bool  // the last record was not taken
}

// NewDecisionLog returns a DecisionLog writing to log and, if audit is non-nil, to audit.
func NewDecisionLog(log *slog.Logger, audit *AuditFile) *DecisionLog {
	return &DecisionLog{log: log, audit: audit, Routine: slog.LevelInfo, now: time.Now}
}

type auditRecord struct {
	Time string `json:"time"`
	Call string `json:"call"`
	Record
}

// Record reports one decision of call callID; the error says the audit
// file did not take it.
func (l *DecisionLog) Record(callID string, d Record) error {
	level := slog.LevelInfo
	if d.Decision != escalate.Deny && d.Reason == "" {
		level = l.Routine
	}
	l.log.Log(context.Background(), level, "exec decision", "call", callID, "program", d.Program, "argv", d.Argv,
		"decision", d.Decision.String(), "rule", d.Rule, "reason", d.Reason)
	if l.audit == nil {
		return nil
	}
	line, err := json.Marshal(auditRecord{Time: l.now().UTC().Format(time.RFC3339Nano), Call: callID, Record: d})
	if err == nil {
		err = l.audit.WriteRecord(line)
	}
	if err != nil {
		l.failing.Store(true)
		l.log.Error("audit log: decision not recorded", "call", callID, "lost_since_start", l.lost.Add(1), "error", err)
		return err
	}
	l.failing.Store(false)
	return nil
}

// Blocked says why a program start must be denied: the audit file is
// required and its last record was not written. Nil otherwise.
func (l *DecisionLog) Blocked() error {
	if l == nil || !l.Required || !l.failing.Load() {
		return nil
	}
	return fmt.Errorf("the audit log %s cannot be written (%d records lost) and --audit-required is set: every program is denied until a record can be written", l.audit.Path(), l.lost.Load())
}

// Decisions collects the decisions of one call, reporting each to a DecisionLog.
// The execution engine calls Record from any goroutine.
type Decisions struct {
	callID string
	log    *DecisionLog
	// onAuditFailure, if set, is called with the error of every record
	// the audit file did not take when it is required.
	onAuditFailure func(error)

	mu        sync.Mutex
	list      []Record
	lost      int   // records of this call the audit file did not take
	lostFirst error // the first of those errors
}

// newDecisions returns the collector for call callID.
func newDecisions(callID string, log *DecisionLog) *Decisions {
	return &Decisions{callID: callID, log: log}
}

// Record adds d to the call's list and reports it.
func (d *Decisions) Record(dec Record) {
	d.mu.Lock()
	d.list = append(d.list, dec)
	d.mu.Unlock()
	if d.log == nil {
		return
	}
	if err := d.log.Record(d.callID, dec); err != nil {
		d.mu.Lock()
		d.lost++
		if d.lostFirst == nil {
			d.lostFirst = err
		}
		d.mu.Unlock()
		if d.log.Required && d.onAuditFailure != nil {
			d.onAuditFailure(err)
		}
	}
}

// Blocked is the DecisionLog's Blocked.
func (d *Decisions) Blocked() error {
	if d == nil {
		return nil
	}
	return d.log.Blocked()
}

// List returns the decisions so far, in order.
func (d *Decisions) List() []Record {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Record(nil), d.list...)
}

// auditNote says what the audit file missed of this call, "" if nothing.
func (d *Decisions) auditNote() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lost == 0 {
		return ""
	}
	note := fmt.Sprintf("WARNING: %d of this call's decisions are missing from the audit log: %v", d.lost, d.lostFirst)
	if d.log.Required {
		note += "; --audit-required stopped the call"
	}
	return note
}
