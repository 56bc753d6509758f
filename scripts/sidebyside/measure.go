package main

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// userHZ is the unit of /proc/PID/stat's CPU times (USER_HZ, 100 on every
// Linux architecture the original is built for).
const userHZ = 100

// latency is one server's calls one after the other: the latency of each
// and the CPU the server's process tree spent per call.
type latency struct {
	calls []time.Duration
	cpu   time.Duration // per call
}

// measureLatency makes n timed calls (after warm untimed ones), sleeping
// pace between them (not timed).
func measureLatency(c *client, args string, n, warm int, pace time.Duration) (latency, error) {
	for range warm {
		if err := c.shell(args); err != nil {
			return latency{}, err
		}
	}
	time.Sleep(50 * time.Millisecond) // whatever the warm-up started settles
	before, err := cpuTicks(c.cmd.Process.Pid)
	if err != nil {
		return latency{}, err
	}
	var l latency
	for range n {
		start := time.Now()
		if err := c.shell(args); err != nil {
			return latency{}, err
		}
		l.calls = append(l.calls, time.Since(start))
		if pace > 0 {
			time.Sleep(pace)
		}
	}
	after, err := cpuTicks(c.cmd.Process.Pid)
	if err != nil {
		return latency{}, err
	}
	l.cpu = ticks(after-before) / time.Duration(n)
	return l, nil
}

func ticks(n int64) time.Duration { return time.Duration(n) * time.Second / userHZ }

// throughput is calls per second over several servers, each with one
// client calling as fast as it can, and the CPU all of them spent per call.
type throughput struct {
	perSecond float64
	cpu       time.Duration
}

// measureThroughput runs len(cs) clients in parallel for d.
func measureThroughput(cs []*client, args string, d time.Duration) (throughput, error) {
	var before int64
	for _, c := range cs {
		t, err := cpuTicks(c.cmd.Process.Pid)
		if err != nil {
			return throughput{}, err
		}
		before += t
	}
	var calls atomic.Int64
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if err := c.shell(args); err != nil {
					mu.Lock()
					firstErr = cmpOr(firstErr, err)
					mu.Unlock()
					return
				}
				calls.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return throughput{}, firstErr
	}
	var after int64
	for _, c := range cs {
		t, err := cpuTicks(c.cmd.Process.Pid)
		if err != nil {
			return throughput{}, err
		}
		after += t
	}
	n := calls.Load()
	if n == 0 {
		return throughput{}, fmt.Errorf("no call completed in %v", d)
	}
	return throughput{perSecond: float64(n) / elapsed.Seconds(), cpu: ticks(after-before) / time.Duration(n)}, nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// quantile of sorted durations.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)-1))
	return sorted[i]
}

func sorted(d []time.Duration) []time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
