package security

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/execgate/execgate/internal/testbash"
	"github.com/execgate/execgate/internal/testbin"
)

// forkBombBound is max_processes in TestForkBombIsBounded.
const forkBombBound = 200

// TestForkBombIsBounded: a fork bomb in one call, ended by the call's
// timeout, never has more processes on the host than the configured
// bound, the call says it hit the bound, and none of its processes is left
// after it. As root the bound is a pids cgroup (RLIMIT_NPROC does not apply
// to root); as uid 65534 it is RLIMIT_NPROC in the call's user namespace,
// or the cgroup where that user may make one.
func TestForkBombIsBounded(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Config: "[execgate]\nmax_processes = " + strconv.Itoa(forkBombBound) + "\n"})
		bound := w.processBound(t)
		t.Logf("doctor as %s: process bound: %s", u.name, bound)
		if strings.HasPrefix(bound, "NONE") {
			t.Skipf("no way to bound a call's processes for %s here: %s", u.name, bound)
		}
		watch := watchCalls(t, w.serverPid)
		// The bomb first tries to lift the bound it may see (ulimit -u);
		// the sleep keeps Bash, and so the call, alive until its timeout
		// (the bomb's processes die with the call's Bash).
		res := w.callFor(t, "ulimit -u unlimited 2>/dev/null; sleep 60 & bomb() { bomb | bomb & }; bomb; wait", 8*time.Second)
		peak, ns := watch()
		t.Logf("fork bomb as %s: at most %d processes in the call's pid namespace (bound %d); timed out %v; note %q; output %d bytes, ends with %q",
			u.name, peak, forkBombBound, res.TimedOut, res.Note, len(res.Output), tail(res.Output, 300))
		if ns == "" {
			var other []string
			for _, l := range strings.Split(res.Output, "\n") {
				if !strings.Contains(l, "fork: retry") {
					other = append(other, l)
				}
			}
			t.Fatalf("the call's processes were never seen; output but fork retries: %q", strings.Join(other, "\n"))
		}
		// The bound holds for the script and what it starts; the call's
		// supervisor, pid 1 of the namespace, stays outside a pids cgroup.
		if peak > forkBombBound+1 {
			t.Errorf("the call had %d processes at once, above its bound of %d (and the helper)", peak, forkBombBound)
		}
		if peak < forkBombBound/2 {
			t.Errorf("the bomb reached only %d processes: it did not test the bound", peak)
		}
		if !res.TimedOut {
			t.Errorf("the bomb ended before the call's timeout: exit %d", res.ExitCode)
		}
		if !strings.Contains(res.Output, "Resource temporarily unavailable") {
			t.Errorf("the call's output does not show refused process starts: %q", head(res.Output, 500))
		}
		if strings.Contains(bound, "cgroup of its own") && !strings.Contains(res.Note, "reached its limit of "+strconv.Itoa(forkBombBound)+" processes") {
			t.Errorf("the call does not say it reached its bound: note %q", res.Note)
		}
		// The host's process count is back where it was: nothing of the
		// call is left.
		deadline := time.Now().Add(5 * time.Second)
		for n := countInNamespace(ns); n > 0; n = countInNamespace(ns) {
			if time.Now().After(deadline) {
				t.Fatalf("%d processes of the call are left after it", n)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// And the next call runs.
		if res := w.shell(t, "echo next"); !strings.Contains(res.Output, "next") {
			t.Errorf("the call after the bomb: %q", res.Output)
		}
	})
}

// callFor runs one `shell` call in the workspace with the given timeout.
func (w *world) callFor(t *testing.T, command string, timeout time.Duration) shellResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout+60*time.Second)
	defer cancel()
	res, err := w.client.CallTool(ctx, &mcp.CallToolParams{Name: "shell", Meta: w.meta, Arguments: map[string]any{
		"command": command, "workdir": w.WS, "login": false, "timeout_ms": timeout.Milliseconds(),
	}})
	if err != nil || res.IsError {
		t.Fatalf("tools/call %q: %v %+v", command, err, res)
	}
	var out shellResult
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("structuredContent %s: %v", b, err)
	}
	return out
}

// watchCalls polls the host's processes until stopped, recording for each
// pid namespace whose init (the sandbox helper) descends from the server
// the most processes seen in it at once. Stopping returns the largest such
// peak and its namespace ("" if none was seen).
func watchCalls(t *testing.T, serverPid int) func() (int, string) {
	var mu sync.Mutex
	peaks := map[string]int{}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
			counts := callNamespaces(serverPid)
			mu.Lock()
			for ns, n := range counts {
				peaks[ns] = max(peaks[ns], n)
			}
			mu.Unlock()
		}
	}()
	return func() (int, string) {
		close(done)
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		peak, ns := 0, ""
		for k, n := range peaks {
			if n > peak {
				peak, ns = n, k
			}
		}
		return peak, ns
	}
}

// callNamespaces counts the host's processes in each pid namespace whose
// init descends from serverPid.
func callNamespaces(serverPid int) map[string]int {
	type proc struct {
		ppid int
		init bool // pid 1 of its namespace
		ns   string
	}
	procs := map[int]proc{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		var p proc
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "PPid:"); ok {
				p.ppid, _ = strconv.Atoi(strings.TrimSpace(v))
			}
			if v, ok := strings.CutPrefix(line, "NSpid:"); ok {
				f := strings.Fields(v)
				p.init = len(f) > 1 && f[len(f)-1] == "1"
			}
		}
		if p.ns, err = os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil {
			procs[pid] = p
		}
	}
	fromServer := func(pid int) bool {
		for range 8 {
			p, ok := procs[pid]
			if !ok {
				return false
			}
			if p.ppid == serverPid {
				return true
			}
			pid = p.ppid
		}
		return false
	}
	calls := map[string]bool{}
	for pid, p := range procs {
		if p.init && fromServer(pid) {
			calls[p.ns] = true
		}
	}
	counts := map[string]int{}
	for _, p := range procs {
		if calls[p.ns] {
			counts[p.ns]++
		}
	}
	return counts
}

// countInNamespace counts the host's processes in pid namespace ns.
func countInNamespace(ns string) int {
	ents, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if l, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && l == ns {
			n++
		}
	}
	return n
}

func head(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// processBound is what `execgate doctor`, run as w's user with w's
// configuration, says of the bound on a call's processes.
func (w *world) processBound(t *testing.T) string {
	t.Helper()
	out, err := w.doctor(t, container{})
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "process bound:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("execgate doctor says nothing of the process bound (%v):\n%s", err, out)
	return ""
}

// doctor is the output of `execgate doctor`, run as w's user with w's
// configuration, in container c (none: container{}).
func (w *world) doctor(t *testing.T, c container) (string, error) {
	t.Helper()
	cmd := exec.Command(testbin.Must(t, testbin.Execgate), "doctor")
	cmd.Dir = w.WS
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + w.Home, "CODEX_HOME=" + w.Home,
		"XDG_RUNTIME_DIR=" + w.run, "EXECGATE_BASH=" + testbash.Path(t)}
	if w.User.uid != os.Geteuid() {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(w.User.uid), Gid: uint32(w.User.uid)}}
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	err := c.run(cmd.Start)
	if err == nil {
		err = cmd.Wait()
	}
	return out.String(), err
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
