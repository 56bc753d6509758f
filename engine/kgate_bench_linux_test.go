package engine

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// forkExecC forks and execs /bin/true N times and prints the mean
// nanoseconds per start: program starts no shell sees, which only the
// kernel gate checks. With a second argument it instead calls execve on
// /etc/passwd N times, without forking: a file that exists but cannot be
// executed, so the kernel fails the exec at once (after the gate, which
// judges it as any program), and what remains is the gate's round trip,
// which a loaded machine's fork and exec times would hide.
const forkExecC = `#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
int main(int argc, char **argv) {
	int n = atoi(argv[1]);
	char *args[] = {"true", 0};
	char *envp[] = {0};
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; argc > 2 && i < n; i++)
		execve("/etc/passwd", args, envp);
	for (int i = 0; argc == 2 && i < n; i++) {
		pid_t p = fork();
		if (p == 0) { execve("/bin/true", args, envp); _exit(127); }
		int st;
		waitpid(p, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) { fprintf(stderr, "child failed\n"); return 1; }
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.0f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
	return 0;
}
`

// BenchmarkKernelGateForkExec: a call whose C program forks and execs
// /bin/true 1,000 times, under engines with and without the kernel gate,
// alternating in the same run (rules present, none for true). Reports
// the time per fork+exec of each and what the gate adds (target: at most
// 50 µs). The builtin sub-benchmark is a call that starts no program but
// Bash: what the gate adds to the call itself.
func BenchmarkKernelGateForkExec(b *testing.B) {
	if _, err := exec.LookPath("cc"); err != nil {
		b.Skip("no C compiler")
	}
	dir := b.TempDir()
	src, bin := filepath.Join(dir, "forkexec.c"), filepath.Join(dir, "forkexec")
	if err := os.WriteFile(src, []byte(forkExecC), 0o644); err != nil {
		b.Fatal(err)
	}
	if out, err := exec.Command("cc", "-O2", "-o", bin, src).CombinedOutput(); err != nil {
		b.Fatalf("cc: %v\n%s", err, out)
	}
	rules := `prefix_rule(pattern=["printf"], decision="forbidden")` + "\n" +
		`prefix_rule(pattern=["git", "push"], decision="prompt")` + "\n"
	on := newTestEngine(b, rules, nil)
	off := newTestEngine(b, rules, func(o *Options) { o.NoKernelGate = true })
	ws := b.TempDir()
	run := func(te *testEngine, command string) (string, float64) {
		req := Request{ID: "bench", Command: command, Workdir: ws, Mode: ModeWorkspaceWrite, Workspace: []string{ws}, Timeout: 2 * time.Minute}
		res, err := Execute(context.Background(), te, te.opts, nil, req)
		if err != nil || res.ExitCode != 0 {
			b.Fatalf("%v %+v", err, res)
		}
		return res.Output, res.Duration.Seconds() * 1e3
	}
	b.Run("forkexec1000", func(b *testing.B) { benchGateExecs(b, on, off, run, shellQuote(bin)+" 1000") })
	b.Run("failedexec1000", func(b *testing.B) { benchGateExecs(b, on, off, run, shellQuote(bin)+" 1000 fail") })
	b.Run("builtin", func(b *testing.B) {
		var withGate, without, cpuGate, cpuNoGate []float64
		for b.Loop() {
			c := selfCPU()
			_, ms := run(on, "true")
			cpuGate = append(cpuGate, (selfCPU()-c).Seconds()*1e6)
			withGate = append(withGate, ms)
			c = selfCPU()
			_, ms = run(off, "true")
			cpuNoGate = append(cpuNoGate, (selfCPU()-c).Seconds()*1e6)
			without = append(without, ms)
		}
		b.ReportMetric(median(withGate), "gate-ms/call")
		b.ReportMetric(median(without), "nogate-ms/call")
		b.ReportMetric(median(cpuGate), "gate-server-cpu-µs/call")
		b.ReportMetric(median(cpuNoGate), "nogate-server-cpu-µs/call")
	})
}

// benchGateExecs runs command (which prints nanoseconds per exec) under
// the engines with and without the gate in turn, and reports both, what
// the gate adds per exec (the median of each round's difference), and the
// server's CPU per exec with the gate (this benchmark runs the engine
// in-process), which a loaded machine does not inflate as it does
// wall-clock times.
func benchGateExecs(b *testing.B, on, off *testEngine, run func(*testEngine, string) (string, float64), command string) {
	var withGate, without, added, cpu []float64
	for b.Loop() {
		for _, te := range []*testEngine{on, off} {
			before := selfCPU()
			out, _ := run(te, command)
			if te == on {
				cpu = append(cpu, (selfCPU()-before).Seconds()*1e6/1000)
			}
			ns, err := strconv.ParseFloat(strings.TrimSpace(out), 64)
			if err != nil {
				b.Fatalf("output %q: %v", out, err)
			}
			if te == on {
				withGate = append(withGate, ns/1e3)
			} else {
				without = append(without, ns/1e3)
				added = append(added, withGate[len(withGate)-1]-ns/1e3)
			}
		}
	}
	b.ReportMetric(median(withGate), "gate-µs/exec")
	b.ReportMetric(median(without), "nogate-µs/exec")
	b.ReportMetric(median(added), "added-µs/exec")
	b.ReportMetric(median(cpu), "server-cpu-µs/exec")
}

// selfCPU is this process's user and system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
