package sandbox

import (
	"context"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
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

// benchNsexec is the launcher (and helper) to measure: EXECGATE_NSEXEC,
// else the one compiled for the tests.
func benchNsexec(b *testing.B) string {
	if p := os.Getenv("EXECGATE_NSEXEC"); p != "" {
		return p
	}
	return testNsexec(b)
}

// BenchmarkHelperStart: `bash -c true` started plainly and through the
// helper, side by side.
func BenchmarkHelperStart(b *testing.B) {
	l := NewLauncher(nil, NamespaceLauncher(benchNsexec(b)))
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
		name  string
		mode  Mode
		ns    bool
		spare bool
	}{
		{"workspace-write/ns", WorkspaceWrite, true, false},
		{"workspace-write/ns/spare", WorkspaceWrite, true, true},
		{"workspace-write/no-ns", WorkspaceWrite, false, false},
		{"workspace-write/no-ns/spare", WorkspaceWrite, false, true},
		{"read-only/ns", ReadOnly, true, false},
		{"danger-full-access", DangerFullAccess, false, false},
		{"danger-full-access/spare", DangerFullAccess, false, true},
	} {
		if tc.ns && !l.caps.Namespaces {
			continue
		}
		b.Run(tc.name, func(b *testing.B) {
			l := &Launcher{caps: l.caps, nsexec: l.nsexec}
			l.caps.Namespaces = tc.ns
			defer l.Close()
			spec := Spec{Policy: Policy{Mode: tc.mode}, Workspace: ws}
			var d durations
			for b.Loop() {
				if tc.spare {
					// As in the server: a spare is prepared after
					// each call, and calls are rarely back to back,
					// so it is ready when the next one comes.
					l.Prepare(spec)
					if err := waitForSpare(l, spec); err != nil {
						b.Fatal(err)
					}
				}
				start := time.Now()
				pr, pw, err := os.Pipe()
				if err != nil {
					b.Fatal(err)
				}
				cmd, err := l.Start(context.Background(), spec, argv, Proc{Stdout: pw, Stderr: pw})
				pw.Close()
				if err != nil {
					b.Fatal(err)
				}
				out, _ := io.ReadAll(pr)
				pr.Close()
				if err := cmd.Wait(); err != nil {
					b.Fatalf("%v: %s", err, out)
				}
				d = append(d, time.Since(start))
				if usedSpare(cmd) != tc.spare {
					b.Fatalf("spare used: %v", usedSpare(cmd))
				}
			}
			d.report(b)
		})
	}
}

// BenchmarkNamespacedStart: starting a helper in new namespaces (its
// namespace self-test, which returns at once) from a process holding a
// server-sized heap: os/exec vforks the sandbox launcher, which clones pid
// 1 of the new namespaces, which forks the helper. Reports the wall time
// the caller's Start takes and the CPU spent per start by this process
// and by the children.
func BenchmarkNamespacedStart(b *testing.B) {
	nsexec := benchNsexec(b)
	if !Probe(nsexec).Namespaces {
		b.Skip("no user namespaces here")
	}
	// About what a server holds after startup: rules, the SDK, buffers.
	ballast := make([][]byte, 15<<10)
	for i := range ballast {
		ballast[i] = make([]byte, 1<<10)
	}
	l := &Launcher{nsexec: nsexec}
	var start durations
	var selfCPU, childCPU time.Duration
	for b.Loop() {
		s0, c0 := rusage(unix.RUSAGE_SELF), rusage(unix.RUSAGE_CHILDREN)
		cmd, err := l.helperCommand(context.Background(), true, probeNamespacesArg)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		start = append(start, time.Since(t0))
		// The parent's copy-on-write faults come as it runs on.
		for i := range ballast {
			ballast[i][0]++
		}
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
		selfCPU += rusage(unix.RUSAGE_SELF) - s0
		childCPU += rusage(unix.RUSAGE_CHILDREN) - c0
	}
	start.report(b)
	b.ReportMetric(float64(selfCPU.Microseconds())/float64(b.N), "self-cpu-us/op")
	b.ReportMetric(float64(childCPU.Microseconds())/float64(b.N), "child-cpu-us/op")
	runtime.KeepAlive(ballast)
}

func rusage(who int) time.Duration {
	var ru unix.Rusage
	_ = unix.Getrusage(who, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSpareCall: what the server does per sandboxed call, with the
// namespace launcher and a spare prepared ahead: activate it, wait for it.
// Reports the CPU (mean and median), page faults and context switches of
// the whole child tree per call (launcher, helper, program): "bash" runs
// `bash -c true` as a trivial call does, "true" runs /bin/true, so that the
// helper's own share stands out; "bash/started" is "bash" through a helper
// started for the call instead of a spare. EXECGATE_NSEXEC names the
// launcher to measure (build/bash/bin/execgate-nsexec, say); by default the
// one compiled for the tests.
//
// On a shared machine the load of the neighbours moves these figures by
// more than most changes do. To compare two launchers, set
// EXECGATE_NSEXEC_BASE to the other one: every iteration then makes a call
// through each, in alternating order, and the base's figures are reported
// beside (base-*). Both must read the plan this test binary writes (the
// same tag, see specwire.go).
func BenchmarkSpareCall(b *testing.B) {
	l := NewLauncher(nil, NamespaceLauncher(benchNsexec(b)))
	defer l.Close()
	if !l.caps.Namespaces {
		b.Skip("no user namespaces here")
	}
	launchers := []*Launcher{l}
	if base := os.Getenv("EXECGATE_NSEXEC_BASE"); base != "" {
		lb := NewLauncher(nil, NamespaceLauncher(base))
		defer lb.Close()
		launchers = append(launchers, lb)
	}
	spec := Spec{Policy: Policy{Mode: WorkspaceWrite}, Workspace: b.TempDir()}
	for _, tc := range []struct {
		name  string
		argv  []string
		spare bool
	}{
		{"bash", []string{"/bin/bash", "-c", "true"}, true},
		{"true", []string{"/bin/true"}, true},
		{"bash/started", []string{"/bin/bash", "-c", "true"}, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			costs := make([]childCost, len(launchers))
			i := 0
			for b.Loop() {
				for j := range launchers {
					k := (i + j) % len(launchers)
					costs[k].add(spareCall(b, launchers[k], spec, tc.argv, tc.spare))
				}
				i++
			}
			for k, c := range costs {
				prefix := []string{"", "base-"}[k]
				b.ReportMetric(c.meanCPU(), prefix+"child-cpu-us/op")
				b.ReportMetric(c.medianCPU(), prefix+"child-cpu-p50-us/op")
				b.ReportMetric(float64(c.faults)/float64(len(c.cpu)), prefix+"child-faults/op")
				b.ReportMetric(float64(c.switches)/float64(len(c.cpu)), prefix+"child-ctxsw/op")
			}
		})
	}
}

// childCost sums what the child trees of several calls cost.
type childCost struct {
	cpu              []time.Duration
	faults, switches int64
}

func (c *childCost) add(d childCost) {
	c.cpu = append(c.cpu, d.cpu...)
	c.faults += d.faults
	c.switches += d.switches
}

func (c *childCost) meanCPU() float64 {
	var sum time.Duration
	for _, d := range c.cpu {
		sum += d
	}
	return float64(sum.Microseconds()) / float64(len(c.cpu))
}

func (c *childCost) medianCPU() float64 {
	s := slices.Clone(c.cpu)
	slices.Sort(s)
	return float64(s[len(s)/2].Microseconds())
}

// spareCall makes one call through a spare of l, prepared beforehand as
// the server does after each call (or, without spare, through a helper
// started for it), and returns what its child tree cost.
func spareCall(b *testing.B, l *Launcher, spec Spec, argv []string, spare bool) childCost {
	if spare {
		l.Prepare(spec)
		if err := waitForSpare(l, spec); err != nil {
			b.Fatal(err)
		}
	}
	var ru0, ru1 unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_CHILDREN, &ru0)
	cmd, err := l.Start(context.Background(), spec, argv, Proc{})
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		b.Fatal(err)
	}
	if usedSpare(cmd) != spare {
		b.Fatalf("spare used: %v, want %v", usedSpare(cmd), spare)
	}
	_ = unix.Getrusage(unix.RUSAGE_CHILDREN, &ru1)
	return childCost{
		cpu:      []time.Duration{time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())},
		faults:   ru1.Minflt - ru0.Minflt,
		switches: ru1.Nvcsw + ru1.Nivcsw - ru0.Nvcsw - ru0.Nivcsw,
	}
}

// BenchmarkBuildRuleset is what building a workspace-write call's Landlock
// ruleset costs the server per call (pins, the ruleset, one rule per
// granted path; about 30 system calls), work the helper did before stage
// 3 of docs/c-helper.md.
func BenchmarkBuildRuleset(b *testing.B) {
	if landlockABI() < 1 {
		b.Skip("no Landlock here")
	}
	l := NewLauncher(nil, NamespaceLauncher(testNsexec(b)))
	h, err := l.helperSpec(Spec{Policy: Policy{Mode: WorkspaceWrite}, Workspace: b.TempDir()}, []string{"/bin/true"})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		fd, err := buildRuleset(&h)
		if err != nil {
			b.Fatal(err)
		}
		unix.Close(fd)
	}
}

// BenchmarkResolveMounts is what deciding a workspace-write call's mounts
// costs the server per call (stage 2 of docs/c-helper.md): work the helper
// did before, with a repository in the workspace (.git protected as it is,
// .codex and .agents to be made) and the user's home beside it.
func BenchmarkResolveMounts(b *testing.B) {
	l := NewLauncher(nil, NamespaceLauncher(testNsexec(b)))
	l.caps.Namespaces = true
	ws := b.TempDir()
	mustMkdir(b, ws+"/.git/hooks")
	h, err := l.helperSpec(Spec{Policy: Policy{Mode: WorkspaceWrite}, Workspace: ws}, []string{"/bin/true"})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		hc := h
		if err := resolveMounts(&hc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(h.Mounts)), "mounts")
}
