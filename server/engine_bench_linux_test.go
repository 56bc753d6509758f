package server

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/execgate/execgate/engine"
	"github.com/execgate/execgate/internal/testhelp"
	"github.com/execgate/execgate/sandbox"
)

// BenchmarkEngineTrivialCall is one `true` call (login=false) through the
// engine in-process, per sandbox mode: sandbox helper, Bash, session,
// output pipe, cleanup (target: under 5 ms in workspace-write; see
// "Performance budget" in docs/architecture.md).
func BenchmarkEngineTrivialCall(b *testing.B) {
	benchTrivialCall(b, testhelp.Execgate(b))
}

func benchTrivialCall(b *testing.B, self string) {
	te := newTestEngineWith(b, self, `prefix_rule(pattern=["true"], decision="allow")`+"\n", nil)
	ws := b.TempDir()
	for _, mode := range []string{engine.ModeReadOnly, engine.ModeWorkspaceWrite, engine.ModeDangerFullAccess} {
		for _, c := range []struct{ name, command string }{
			{"builtin", "true"},
			{"exec", "/bin/true"},            // one intercepted exec, run in place
			{"escalated", "/usr/bin/true 1"}, // one exec escalated by the allow rule
		} {
			b.Run(mode+"/"+c.name, func(b *testing.B) {
				timeCalls(b, te, engine.Request{ID: "bench", Command: c.command, Workdir: ws, Mode: mode, Workspace: []string{ws}})
			})
		}
	}
}

// BenchmarkBinaryTrivialCall is the same call as an MCP client sees it:
// tools/call over the pipes of an `execgate server` process, calls back to
// back, and paced: 5 ms between calls (not timed), as an agent that reads
// each result leaves at least, which lets the server's spare sandbox helper
// be ready for the next call.
func BenchmarkBinaryTrivialCall(b *testing.B) {
	for _, pace := range []time.Duration{0, 5 * time.Millisecond} {
		name := "back-to-back"
		if pace > 0 {
			name = "paced"
		}
		b.Run(name, func(b *testing.B) { benchBinaryTrivialCall(b, pace) })
	}
}

func benchBinaryTrivialCall(b *testing.B, pace time.Duration) {
	for _, mode := range []string{engine.ModeReadOnly, engine.ModeWorkspaceWrite, engine.ModeDangerFullAccess} {
		b.Run(mode, func(b *testing.B) {
			cmd := exec.Command(testhelp.Execgate(b), "server", "--sandbox", mode)
			cmd.Env = serverEnv(b, testhelp.PrivateDir(b))
			cs := connect(b, cmd, nil)
			args := map[string]any{"command": "true", "workdir": b.TempDir(), "login": false}
			var lat latencies
			for b.Loop() {
				start := time.Now()
				res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "shell", Arguments: args})
				if err != nil || res.IsError {
					b.Fatalf("%v %v", err, res)
				}
				lat = append(lat, time.Since(start))
				time.Sleep(pace)
			}
			lat.report(b)
		})
	}
}

// BenchmarkBinaryConcurrentClients: 8 MCP clients, each with its own
// `execgate server`, calling `/bin/true` (one intercepted exec) as fast
// as they can; reports calls per second overall.
func BenchmarkBinaryConcurrentClients(b *testing.B) {
	const clients = 8
	home := testhelp.PrivateDir(b)
	ws := b.TempDir()
	sessions := make([]*mcp.ClientSession, clients)
	for i := range sessions {
		cmd := exec.Command(testhelp.Execgate(b), "server")
		cmd.Env = serverEnv(b, home)
		sessions[i] = connect(b, cmd, nil)
	}
	args := map[string]any{"command": "/bin/true", "workdir": ws, "login": false}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	per := (b.N + clients - 1) / clients
	for _, cs := range sessions {
		wg.Go(func() {
			for range per {
				res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "shell", Arguments: args})
				if err != nil || res.IsError {
					b.Errorf("%v %v", err, res)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(per*clients)/time.Since(start).Seconds(), "calls/s")
}

// TestBinaryIdleRSSWithEngine reports the server's RSS once the engine is
// up and one call has run (target: under 15 MB idle).
func TestBinaryIdleRSSWithEngine(t *testing.T) {
	cmd := exec.Command(testhelp.Execgate(t), "server")
	cmd.Env = serverEnv(t, testhelp.PrivateDir(t))
	cs := connect(t, cmd, nil)
	pid := cmd.Process.Pid
	idle := procStatusKB(t, pid, "VmRSS")
	callShell(t, cs, map[string]any{"command": "/bin/true", "workdir": t.TempDir(), "login": false})
	after := procStatusKB(t, pid, "VmRSS")
	t.Logf("server RSS: %d kB after initialize, %d kB after one call", idle, after)
	if idle > 30<<10 || after > 30<<10 {
		t.Errorf("RSS %d / %d kB", idle, after)
	}
}

// latencies reports the minimum and the median besides the mean: on a
// shared machine the mean mostly measures the neighbours.
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	b.ReportMetric(float64(l[0].Microseconds())/1000, "min-ms")
	b.ReportMetric(float64(l[len(l)/2].Microseconds())/1000, "p50-ms")
}

// BenchmarkBinaryLoginCall: a trivial call with login true and with login
// false, alternating against one server in workspace-write (target: login
// true at most 0.5 ms more; see docs/architecture.md). The server's HOME is the
// machine's, so its real profile is what the snapshot replays; the first
// login call, which takes the snapshot, is not timed.
func BenchmarkBinaryLoginCall(b *testing.B) {
	for _, c := range []struct{ name, command string }{
		{"builtin", "true"},
		{"exec", "/bin/true"},
	} {
		b.Run(c.name, func(b *testing.B) {
			cmd := exec.Command(testhelp.Execgate(b), "server", "--sandbox", "workspace-write")
			cmd.Env = serverEnv(b, testhelp.PrivateDir(b))
			cs := connect(b, cmd, nil)
			ws := b.TempDir()
			call := func(login bool) time.Duration {
				start := time.Now()
				res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "shell", Arguments: map[string]any{"command": c.command, "workdir": ws, "login": login}})
				if err != nil || res.IsError {
					b.Fatalf("%v %v", err, res)
				}
				return time.Since(start)
			}
			call(true)
			var on, off latencies
			for b.Loop() {
				on = append(on, call(true))
				time.Sleep(5 * time.Millisecond)
				off = append(off, call(false))
				time.Sleep(5 * time.Millisecond)
			}
			slices.Sort(on)
			slices.Sort(off)
			p50 := func(l latencies) float64 { return float64(l[len(l)/2].Microseconds()) / 1000 }
			b.ReportMetric(p50(on), "login-p50-ms")
			b.ReportMetric(p50(off), "bare-p50-ms")
			b.ReportMetric(p50(on)-p50(off), "extra-p50-ms")
		})
	}
}

// BenchmarkProcessBound is what the bound on a call's processes costs a
// trivial workspace-write call (a pids cgroup made, joined for Bash's start
// and removed, where the server may make one; else RLIMIT_NPROC set), against
// no bound, in the same run.
func BenchmarkProcessBound(b *testing.B) {
	for _, n := range []int{0, sandbox.DefaultMaxProcesses} {
		b.Run(fmt.Sprintf("max_processes=%d", n), func(b *testing.B) {
			te := newTestEngine(b, "", func(o *engine.Options) { o.MaxProcesses = n })
			ws := b.TempDir()
			timeCalls(b, te, engine.Request{ID: "bench", Command: "/bin/true", Workdir: ws, Mode: engine.ModeWorkspaceWrite, Workspace: []string{ws}})
		})
	}
}

// timeCalls runs req on te once per benchmark iteration, each checked to
// succeed, and reports the latencies.
func timeCalls(b *testing.B, te *testEngine, req engine.Request) {
	b.Helper()
	var lat latencies
	for b.Loop() {
		start := time.Now()
		res, err := engine.Execute(context.Background(), te, te.opts, nil, req)
		if err != nil || res.ExitCode != 0 {
			b.Fatalf("%v %+v", err, res)
		}
		lat = append(lat, time.Since(start))
	}
	lat.report(b)
}
