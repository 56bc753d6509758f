package engine

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/execgate/execgate/sandbox"
)

func TestLoaderTarget(t *testing.T) {
	tests := []struct {
		argv []string
		prog string
		rest []string
		ok   bool
	}{
		{[]string{"ld.so", "/usr/bin/printf", "x"}, "/usr/bin/printf", []string{"x"}, true},
		{[]string{"ld.so", "--library-path", "/lib", "--inhibit-cache", "printf", "x"}, "printf", []string{"x"}, true},
		{[]string{"ld.so", "--argv0", "foo", "--", "/usr/bin/printf"}, "/usr/bin/printf", []string{}, true},
		{[]string{"ld.so", "--list"}, "", nil, false},
		{[]string{"ld.so"}, "", nil, false},
	}
	for _, tc := range tests {
		prog, rest, ok := loaderTarget(tc.argv)
		if prog != tc.prog || ok != tc.ok || len(rest) != len(tc.rest) || len(rest) > 0 && !slices.Equal(rest, tc.rest) {
			t.Errorf("loaderTarget(%q) = %q %q %v, want %q %q %v", tc.argv, prog, rest, ok, tc.prog, tc.rest, tc.ok)
		}
	}
}

func TestIsLoader(t *testing.T) {
	for _, name := range []string{"ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "ld-linux.so.2", "ld.so", "ld64.so.2", "ld-musl-x86_64.so.1", "ld-2.31.so"} {
		if !isLoader(name) {
			t.Errorf("%s is a loader", name)
		}
	}
	for _, name := range []string{"ld", "ldd", "ldconfig", "printf", "ld-linux", "gold"} {
		if isLoader(name) {
			t.Errorf("%s is not a loader", name)
		}
	}
}

// TestGateRunnerWaitsForTheReport: the helper's gate report reaches the
// runner from another goroutine, possibly after the call's program is
// gone. Once a report is expected, the call's note, active and end wait
// for it, so that the note says what the report said; without one
// expected, they do not wait.
func TestGateRunnerWaitsForTheReport(t *testing.T) {
	newRunner := func() *gateRunner {
		ctx, cancel := context.WithCancel(context.Background())
		return &gateRunner{log: slog.New(slog.NewTextHandler(io.Discard, nil)), ctx: ctx, cancel: cancel, reported: make(chan struct{})}
	}
	spec := sandbox.Spec{KernelGate: true}
	r := newRunner()
	r.expectReport()
	go func() {
		time.Sleep(50 * time.Millisecond)
		r.start(sandbox.Gate{Why: "reported late"})
	}()
	if note := r.note(spec); !strings.Contains(note, "reported late") {
		t.Errorf("note before the report arrived: %q", note)
	}
	if r.active() {
		t.Error("active without a listener")
	}
	r.end()

	r = newRunner()
	done := make(chan string)
	go func() { done <- r.note(spec) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("note waited for a report nobody expected")
	}
	r.end()
}
