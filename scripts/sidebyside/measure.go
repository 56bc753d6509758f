package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// userHZ is the unit of /proc/PID/stat's CPU times (USER_HZ, 100 on every
// Linux architecture the original is built for).
const userHZ = 100

func ticks(n int64) time.Duration { return time.Duration(n) * time.Second / userHZ }

// group is one target's clients in a measurement: one for latency, several
// for throughput. cpu is the CPU time all of them have spent so far.
type group interface {
	call(i int) error
	size() int
	cpu() (cpuTime, error)
	close()
}

// cpuTime is the CPU time of servers' process trees, and of the server
// processes alone (their own threads, not the helpers and shells they
// start): what the front end and engine cost apart from the sandbox.
type cpuTime struct{ tree, self time.Duration }

func (c cpuTime) sub(d cpuTime) cpuTime { return cpuTime{c.tree - d.tree, c.self - d.self} }
func (c cpuTime) add(d cpuTime) cpuTime { return cpuTime{c.tree + d.tree, c.self + d.self} }

// servers is a group of servers, one client each.
type servers struct {
	cs   []*client
	args string
}

func (s *servers) call(i int) error { return s.cs[i].shell(s.args) }
func (s *servers) size() int        { return len(s.cs) }
func (s *servers) close()           { closeAll(s.cs) }

func (s *servers) cpu() (cpuTime, error) {
	var tree, self int64
	for _, c := range s.cs {
		t, o, err := cpuTicks(c.cmd.Process.Pid)
		if err != nil {
			return cpuTime{}, err
		}
		tree, self = tree+t, self+o
	}
	return cpuTime{ticks(tree), ticks(self)}, nil
}

// bashes is the fallback baseline: `bash -c COMMAND` started by this
// program per call, no server, no sandbox. CPU is this program's waited-for
// children's: the servers of the other group are waited for only when
// they are closed, between measurements.
type bashes struct {
	n         int
	argv, env []string
	command   string
}

func (b *bashes) size() int { return b.n }
func (b *bashes) close()    {}

func (b *bashes) call(int) error {
	cmd := exec.Command(b.argv[0], append(b.argv[1:], b.command)...)
	cmd.Env = b.env
	return cmd.Run()
}

// No server: self stays 0.
func (b *bashes) cpu() (cpuTime, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return cpuTime{}, err
	}
	return cpuTime{tree: time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}, nil
}

// open starts n clients of t (servers, or the bash -c stand-in) working in
// ws, each warmed up with warm calls.
func open(t target, c config, ws string, n, warm int) (group, error) {
	if t.bashC {
		return &bashes{n: n, argv: t.argv, env: t.env, command: c.command}, nil
	}
	s := &servers{cs: make([]*client, n), args: shellArgs(c.command, ws)}
	logFile := fmt.Sprintf("%s/%s.log", c.dir, t.name)
	for i := range s.cs {
		var err error
		if s.cs[i], err = dial(t, ws, logFile); err != nil {
			s.close()
			return nil, err
		}
		for range warm {
			if err := s.call(i); err != nil {
				s.close()
				return nil, err
			}
		}
	}
	return s, nil
}

// latency is one client's calls one after the other: the latency of each
// and the CPU per call of the target's process tree.
type latency struct {
	calls []time.Duration
	spent cpuTime
}

func (l latency) cpu() time.Duration { return perCall(l.spent.tree, len(l.calls)) }

// serverCPU is the server process's own CPU per call.
func (l latency) serverCPU() time.Duration { return perCall(l.spent.self, len(l.calls)) }

func perCall[N int | int64](d time.Duration, n N) time.Duration {
	if n == 0 {
		return 0
	}
	return d / time.Duration(n)
}

// block makes n timed calls through g's first client, sleeping pace after
// each (not timed), and adds them to l.
func block(g group, n int, pace time.Duration, l *latency) error {
	before, err := g.cpu()
	if err != nil {
		return err
	}
	for range n {
		start := time.Now()
		if err := g.call(0); err != nil {
			return err
		}
		l.calls = append(l.calls, time.Since(start))
		if pace > 0 {
			time.Sleep(pace)
		}
	}
	after, err := g.cpu()
	l.spent = l.spent.add(after.sub(before))
	return err
}

// throughput is calls per second of several clients calling as fast as
// they can, and the CPU spent per call.
type throughput struct {
	calls   int64
	elapsed time.Duration
	spent   cpuTime
}

func (t throughput) perSecond() float64 {
	if t.elapsed == 0 {
		return 0
	}
	return float64(t.calls) / t.elapsed.Seconds()
}

func (t throughput) cpu() time.Duration { return perCall(t.spent.tree, t.calls) }

// serverCPU is the server processes' own CPU per call.
func (t throughput) serverCPU() time.Duration { return perCall(t.spent.self, t.calls) }

// window runs every client of g for d and adds the outcome to t.
func window(g group, d time.Duration, t *throughput) error {
	before, err := g.cpu()
	if err != nil {
		return err
	}
	var calls atomic.Int64
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range g.size() {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if err := g.call(i); err != nil {
					mu.Lock()
					firstErr = errors.Join(firstErr, err)
					mu.Unlock()
					return
				}
				calls.Add(1)
			}
		})
	}
	wg.Wait()
	t.elapsed += time.Since(start)
	if firstErr != nil {
		return firstErr
	}
	after, err := g.cpu()
	t.calls += calls.Load()
	t.spent = t.spent.add(after.sub(before))
	return err
}

// quantile of sorted durations.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(q*float64(len(sorted)-1))]
}

func sorted(d []time.Duration) []time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func mkdirs(dirs ...string) error {
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}
