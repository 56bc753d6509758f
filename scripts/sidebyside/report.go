package main

import (
	"fmt"
	"runtime"
	"slices"
)

// roundResult is one server's figures in one round.
type roundResult struct {
	backToBack, paced latency
	load              throughput
}

func (r roundResult) brief(clients int) string {
	b, p := sorted(r.backToBack.calls), sorted(r.paced.calls)
	return fmt.Sprintf("p50 %.2f/%.2f ms (back to back/paced), cpu %.2f/%.2f ms/call (server alone %.2f), %d clients %.0f calls/s at %.2f ms cpu/call (server alone %.2f)",
		ms(quantile(b, 0.5)), ms(quantile(p, 0.5)), ms(r.backToBack.cpu()), ms(r.paced.cpu()), ms(r.backToBack.serverCPU()),
		clients, r.load.perSecond(), ms(r.load.cpu()), ms(r.load.serverCPU()))
}

// metric is one figure of a round, and how to compare it: lower or higher
// is better.
type metric struct {
	name  string
	get   func(roundResult) float64
	unit  string
	lower bool
}

var metrics = []metric{
	{"latency p50, back to back", func(r roundResult) float64 { return ms(quantile(sorted(r.backToBack.calls), 0.5)) }, "ms", true},
	{"latency p90, back to back", func(r roundResult) float64 { return ms(quantile(sorted(r.backToBack.calls), 0.9)) }, "ms", true},
	{"latency p50, paced", func(r roundResult) float64 { return ms(quantile(sorted(r.paced.calls), 0.5)) }, "ms", true},
	{"latency p90, paced", func(r roundResult) float64 { return ms(quantile(sorted(r.paced.calls), 0.9)) }, "ms", true},
	{"CPU per call, back to back", func(r roundResult) float64 { return ms(r.backToBack.cpu()) }, "ms", true},
	{"CPU per call, paced", func(r roundResult) float64 { return ms(r.paced.cpu()) }, "ms", true},
	// The server process alone, without the helpers and shells it starts
	// (0 for the bash -c stand-in, which has no server).
	{"server's own CPU, back to back", func(r roundResult) float64 { return ms(r.backToBack.serverCPU()) }, "ms", true},
	{"throughput, concurrent clients", func(r roundResult) float64 { return r.load.perSecond() }, "calls/s", false},
	{"CPU per call, concurrent", func(r roundResult) float64 { return ms(r.load.cpu()) }, "ms", true},
	{"server's own CPU, concurrent", func(r roundResult) float64 { return ms(r.load.serverCPU()) }, "ms", true},
}

// summarize prints, per metric, the median over rounds of each server and
// the ratio A/B per round (min, median, max): rounds ran at different
// times, so a ratio compares two runs close in time.
func summarize(a, b string, ra, rb []roundResult) {
	fmt.Printf("\n%-32s %12s %12s   %s/%s per round: median [min-max]\n", "median over rounds", a, b, a, b)
	for _, m := range metrics {
		var va, vb, ratio []float64
		for i := range min(len(ra), len(rb)) {
			x, y := m.get(ra[i]), m.get(rb[i])
			va, vb = append(va, x), append(vb, y)
			if y != 0 {
				ratio = append(ratio, x/y)
			}
		}
		slices.Sort(ratio)
		if len(ratio) == 0 { // B has no such figure (bash -c: no server)
			fmt.Printf("%-32s %8.2f %-3s %8.2f %-3s\n", m.name, median(va), short(m.unit), median(vb), short(m.unit))
			continue
		}
		fmt.Printf("%-32s %8.2f %-3s %8.2f %-3s   %.2fx [%.2f-%.2f]\n", m.name,
			median(va), short(m.unit), median(vb), short(m.unit), median(ratio), ratio[0], ratio[len(ratio)-1])
	}
}

func short(unit string) string {
	if unit == "calls/s" {
		return "/s"
	}
	return unit
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func numCPU() int { return runtime.NumCPU() }
