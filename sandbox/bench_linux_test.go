package sandbox

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

// durations reports the minimum and the median besides the mean: on a
// shared, loaded machine they show the cost better than the mean does.
type durations []time.Duration

func (d durations) report(b *testing.B) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	b.ReportMetric(float64(d[0].Microseconds())/1000, "min-ms")
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
}

// BenchmarkHelperStart: `bash -c true` started plainly and through the
// helper, side by side. The helper is the test binary unless
// EXECGATE_HELPER_BIN names a built execgate binary (which starts faster).
func BenchmarkHelperStart(b *testing.B) {
	self := os.Getenv("EXECGATE_HELPER_BIN")
	if self == "" {
		self = selfExe(b)
	}
	l := NewLauncher(self, nil)
	ws := b.TempDir()
	argv := []string{"/bin/bash", "-c", "true"}
	b.Run("plain", func(b *testing.B) {
		var d durations
		for b.Loop() {
			start := time.Now()
			if err := exec.Command(argv[0], argv[1:]...).Run(); err != nil {
				b.Fatal(err)
			}
			d = append(d, time.Since(start))
		}
		d.report(b)
	})
	for _, tc := range []struct {
		name string
		mode Mode
		ns   bool
	}{
		{"workspace-write/ns", WorkspaceWrite, true},
		{"workspace-write/no-ns", WorkspaceWrite, false},
		{"read-only/ns", ReadOnly, true},
		{"danger-full-access", DangerFullAccess, false},
	} {
		if tc.ns && !l.caps.Namespaces {
			continue
		}
		b.Run(tc.name, func(b *testing.B) {
			l := &Launcher{self: l.self, caps: l.caps}
			l.caps.Namespaces = tc.ns
			spec := Spec{Policy: Policy{Mode: tc.mode}, Workspace: ws}
			var d durations
			for b.Loop() {
				start := time.Now()
				cmd, err := l.Command(context.Background(), spec, argv)
				if err != nil {
					b.Fatal(err)
				}
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%v: %s", err, out)
				}
				d = append(d, time.Since(start))
			}
			d.report(b)
		})
	}
}
