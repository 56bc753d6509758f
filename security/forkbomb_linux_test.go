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
		// sleep 1000.25 marks the call's pid namespace for the watcher.
		const marker = "1000.25"
		watch := watchNamespace(t, "sleep\x00"+marker+"\x00")
		// The bomb first tries to lift the bound it may see (ulimit -u).
		res := w.callFor(t, "ulimit -u unlimited 2>/dev/null; sleep "+marker+" & bomb() { bomb | bomb & }; bomb; wait", 8*time.Second)
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
		// The bound holds for the script and what it starts; the sandbox
		// helper, pid 1 of the namespace, stays outside a pids cgroup.
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

// watchNamespace polls the host's processes until stopped: it finds the
// pid namespace of the process whose command line is cmdline and records
// the most processes seen in it at once. Stopping returns that peak and
// the namespace ("" if never found).
func watchNamespace(t *testing.T, cmdline string) func() (int, string) {
	var mu sync.Mutex
	peak, ns := 0, ""
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
			mu.Lock()
			cur := ns
			mu.Unlock()
			if cur == "" {
				cur = findNamespace(cmdline)
			}
			if cur == "" {
				continue
			}
			n := countInNamespace(cur)
			mu.Lock()
			ns, peak = cur, max(peak, n)
			mu.Unlock()
		}
	}()
	return func() (int, string) {
		close(done)
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		return peak, ns
	}
}

// findNamespace is the pid namespace of a process with cmdline.
func findNamespace(cmdline string) string {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && string(b) == cmdline {
			if l, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil {
				return l
			}
		}
	}
	return ""
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
	cmd := exec.Command(testbin.Must(t, testbin.Execgate), "doctor")
	cmd.Dir = w.WS
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + w.Home, "CODEX_HOME=" + w.Home,
		"XDG_RUNTIME_DIR=" + w.run, "EXECGATE_BASH=" + testbash.Path(t)}
	if w.User.uid != os.Geteuid() {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(w.User.uid), Gid: uint32(w.User.uid)}}
	}
	out, err := cmd.CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "process bound:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("execgate doctor says nothing of the process bound (%v):\n%s", err, out)
	return ""
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
