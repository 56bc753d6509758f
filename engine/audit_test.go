package engine

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/execgate/execgate/escalate"
)

func TestDecisionsAndAuditLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	f, err := OpenAuditFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var logs bytes.Buffer
	dl := NewDecisionLog(slog.New(slog.NewTextHandler(&logs, nil)), f)
	dl.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

	ds := newDecisions("call-7", dl)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			ds.Record(Record{Program: "/bin/echo", Argv: []string{"echo", string(rune('a' + i))}, Decision: escalate.Run})
		})
	}
	wg.Wait()
	ds.Record(Record{Program: "/usr/bin/git", Argv: []string{"git", "push"}, Decision: escalate.Deny, Rule: "d.rules:1", Reason: "forbidden"})
	if n := len(ds.List()); n != 21 {
		t.Fatalf("List() has %d decisions, want 21", n)
	}
	if last := ds.List()[20]; last.Decision != escalate.Deny {
		t.Errorf("order lost: last is %+v", last)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 21 {
		t.Fatalf("audit file has %d lines, want 21", len(lines))
	}
	want := `{"time":"2026-01-02T03:04:05Z","call":"call-7","program":"/usr/bin/git","argv":["git","push"],"decision":"deny","rule":"d.rules:1","reason":"forbidden"}`
	if lines[20] != want {
		t.Errorf("audit line\n got %s\nwant %s", lines[20], want)
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("interleaved or invalid line %q", l)
		}
	}
	if !strings.Contains(logs.String(), `msg="exec decision" call=call-7 program=/usr/bin/git`) {
		t.Errorf("decision not logged at info: %s", logs.String())
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %v, want 0600", fi.Mode().Perm())
	}
}
