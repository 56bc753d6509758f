package engine

import (
	"testing"
	"time"

	"github.com/execgate/execgate/escalate"
)

func TestAskedExecs(t *testing.T) {
	a := newAskedExecs()
	now := time.Unix(1000, 0)
	a.now = func() time.Time { return now }
	ex := escalate.Exec{File: "/usr/bin/rm", Argv: []string{"rm", "-f", "x"}, Pid: 42}
	a.add(ex)
	a.add(escalate.Exec{File: "/usr/bin/rm", Argv: []string{"rm", "-f", "x"}}) // no pid: not remembered

	if a.take(43, ex.File, ex.Argv) {
		t.Error("another process's exec was taken for the asker's")
	}
	if a.take(42, ex.File, []string{"rm", "-f", "y"}) {
		t.Error("other arguments were taken for the ones asked about")
	}
	if a.take(42, "/tmp/rm", ex.Argv) {
		t.Error("another file was taken for the one asked about")
	}
	if a.take(0, ex.File, ex.Argv) {
		t.Error("an entry without a pid was kept")
	}
	if !a.take(42, ex.File, ex.Argv) {
		t.Error("the exec asked about was not found")
	}
	if a.take(42, ex.File, ex.Argv) {
		t.Error("one answer served two execs")
	}

	a.add(ex)
	now = now.Add(askedWindow + time.Second)
	if a.take(42, ex.File, ex.Argv) {
		t.Error("an answer older than the window was used")
	}
}

func TestAskedExecsBounded(t *testing.T) {
	a := newAskedExecs()
	for i := range maxAsked + 10 {
		a.add(escalate.Exec{File: "/bin/true", Argv: []string{"true"}, Pid: i + 1})
	}
	if len(a.m) > maxAsked {
		t.Errorf("%d entries, bound %d", len(a.m), maxAsked)
	}
}
