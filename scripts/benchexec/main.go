// Command benchexec measures the whole-process cost of intercepted execs: it
// runs a Bash loop of N `/bin/true` starts and reports microseconds per exec,
// with or without the execve wrapper and an escalate session answering every
// exec with a fixed action. scripts/bench.sh drives it; it is a measuring
// tool, not part of execgate.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/execgate/execgate/escalate"
)

func main() {
	// Sessions start this executable as their escalate reaper.
	if len(os.Args) == 2 && os.Args[1] == escalate.ReaperRole {
		os.Exit(escalate.ReaperMain(nil))
	}
	bash := flag.String("bash", "/bin/bash", "Bash to run the loop with")
	wrapper := flag.String("wrapper", "", "execve wrapper (required for -mode run|escalate)")
	mode := flag.String("mode", "plain", "plain (no wrapper) | run | escalate")
	loops := flag.Int("n", 1000, "execs per run")
	runs := flag.Int("runs", 7, "runs; the median is reported")
	flag.Parse()

	var samples, shellCPU, serverCPU []float64
	for i := 0; i < *runs; i++ {
		r, err := once(*bash, *wrapper, *mode, *loops)
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchexec: %v\n", err)
			os.Exit(1)
		}
		per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 / float64(*loops) }
		samples = append(samples, per(r.wall))
		shellCPU = append(shellCPU, per(r.shellCPU))
		serverCPU = append(serverCPU, per(r.serverCPU))
	}
	parts := make([]string, len(samples))
	for i, s := range sorted(samples) {
		parts[i] = fmt.Sprintf("%.0f", s)
	}
	// Wall time, the runs, then CPU per exec of the shell's process tree
	// and of the server (this process): CPU time is what a loaded machine
	// inflates least.
	fmt.Printf("%.1f\t%s\t%.1f\t%.1f\n", median(samples), strings.Join(parts, " "), median(shellCPU), median(serverCPU))
}

func sorted(v []float64) []float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s
}

func median(v []float64) float64 { return sorted(v)[len(v)/2] }

// result is one run: its wall time, the CPU time of this process's
// children meanwhile (the shell and everything it started, the reaper and
// the escalated programs), and this process's own (the server's side).
type result struct {
	wall, shellCPU, serverCPU time.Duration
}

// selfCPU is this process's user and system time so far.
func selfCPU() time.Duration { return cpu(syscall.RUSAGE_SELF) }

// childrenCPU is that of its children waited for so far (and of theirs).
func childrenCPU() time.Duration { return cpu(syscall.RUSAGE_CHILDREN) }

func cpu(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func once(bash, wrapper, mode string, n int) (result, error) {
	script := fmt.Sprintf("for ((i=0;i<%d;i++)); do /bin/true; done", n)
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", script)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + os.Getenv("HOME")}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if mode == "plain" {
		start, kids := time.Now(), childrenCPU()
		err := cmd.Run()
		return result{wall: time.Since(start), shellCPU: childrenCPU() - kids}, err
	}
	action := escalate.Run
	switch mode {
	case "run":
	case "escalate":
		action = escalate.Escalate
	default:
		return result{}, fmt.Errorf("unknown -mode %q", mode)
	}
	if wrapper == "" {
		return result{}, fmt.Errorf("-mode %s needs -wrapper", mode)
	}
	var decisions atomic.Int64
	sess, err := escalate.NewSession(escalate.DeciderFunc(func(ctx context.Context, e escalate.Exec) escalate.Decision {
		return escalate.Decision{Action: action}
	}), escalate.Options{OnDecision: func(escalate.Record) { decisions.Add(1) }})
	if err != nil {
		return result{}, err
	}
	defer sess.Close()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- sess.Serve(ctx) }()
	cmd.ExtraFiles = []*os.File{sess.ChildFile()}
	cmd.Env = append(cmd.Env, escalate.ShellEnv(3, wrapper)...)
	start, kids, self := time.Now(), childrenCPU(), selfCPU()
	if err := cmd.Start(); err != nil {
		cancel()
		return result{}, err
	}
	sess.CloseChild()
	err = cmd.Wait()
	elapsed := time.Since(start)
	cancel()
	<-served // the reaper, and so every escalated program, has been waited for
	r := result{wall: elapsed, shellCPU: childrenCPU() - kids, serverCPU: selfCPU() - self}
	if err != nil {
		return result{}, fmt.Errorf("%s loop (-mode %s): %w", bash, mode, err)
	}
	if int(decisions.Load()) != n {
		return result{}, fmt.Errorf("%d execs decided, want %d: interception is not working", decisions.Load(), n)
	}
	return r, nil
}
