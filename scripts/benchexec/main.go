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

	var samples []float64
	for i := 0; i < *runs; i++ {
		d, err := once(*bash, *wrapper, *mode, *loops)
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchexec: %v\n", err)
			os.Exit(1)
		}
		samples = append(samples, float64(d.Microseconds())/float64(*loops))
	}
	sort.Float64s(samples)
	parts := make([]string, len(samples))
	for i, s := range samples {
		parts[i] = fmt.Sprintf("%.0f", s)
	}
	fmt.Printf("%.1f\t%s\n", samples[len(samples)/2], strings.Join(parts, " "))
}

func once(bash, wrapper, mode string, n int) (time.Duration, error) {
	script := fmt.Sprintf("for ((i=0;i<%d;i++)); do /bin/true; done", n)
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", script)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + os.Getenv("HOME")}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if mode == "plain" {
		start := time.Now()
		err := cmd.Run()
		return time.Since(start), err
	}
	action := escalate.Run
	switch mode {
	case "run":
	case "escalate":
		action = escalate.Escalate
	default:
		return 0, fmt.Errorf("unknown -mode %q", mode)
	}
	if wrapper == "" {
		return 0, fmt.Errorf("-mode %s needs -wrapper", mode)
	}
	var decisions atomic.Int64
	sess, err := escalate.NewSession(escalate.DeciderFunc(func(ctx context.Context, e escalate.Exec) escalate.Decision {
		return escalate.Decision{Action: action}
	}), escalate.Options{OnDecision: func(escalate.Record) { decisions.Add(1) }})
	if err != nil {
		return 0, err
	}
	defer sess.Close()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- sess.Serve(ctx) }()
	cmd.ExtraFiles = []*os.File{sess.ChildFile()}
	cmd.Env = append(cmd.Env, escalate.ShellEnv(3, wrapper)...)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		cancel()
		return 0, err
	}
	sess.CloseChild()
	err = cmd.Wait()
	elapsed := time.Since(start)
	cancel()
	<-served
	if err != nil {
		return 0, fmt.Errorf("%s loop (-mode %s): %w", bash, mode, err)
	}
	if int(decisions.Load()) != n {
		return 0, fmt.Errorf("%d execs decided, want %d: interception is not working", decisions.Load(), n)
	}
	return elapsed, nil
}
