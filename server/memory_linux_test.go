package server

import (
	"context"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/execgate/execgate/internal/testhelp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// idleRSSTarget is the resident size an idle server stays under, also
// after heavy use and after an oversize request (README).
const idleRSSTarget = 15 << 10 // kB

// settledRSS waits for pid's VmRSS to drop under target once the server is
// idle (its memory is returned within a few seconds, idleMemory), and
// returns it; after 15 s it returns what it is.
func settledRSS(t *testing.T, pid int, target int) int {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		rss := procStatusKB(t, pid, "VmRSS")
		if rss < target || time.Now().After(deadline) {
			return rss
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// The server as built by `make build` settles under idleRSSTarget after
// 2,000 calls and after a 10 MB request, which it refuses as it streams
// in rather than holding it (and the memory it took) for minutes.
func TestBinaryIdleMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 calls")
	}
	cmd := exec.Command(testhelp.Execgate(t), "server")
	cmd.Env = serverEnv(t, testhelp.PrivateDir(t))
	cs := connect(t, cmd, nil)
	pid := cmd.Process.Pid
	ws := t.TempDir()
	t.Logf("after start: VmRSS %d kB", settledRSS(t, pid, idleRSSTarget))

	const calls, clients = 2000, 4
	start := time.Now()
	work := make(chan int)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for range work {
				if r := callShell(t, cs, map[string]any{"command": "echo hi", "workdir": ws, "login": false}); r.Output != "hi\n" {
					t.Errorf("call: %+v", r)
				}
			}
		})
	}
	for i := range calls {
		work <- i
	}
	close(work)
	wg.Wait()
	busy := procStatusKB(t, pid, "VmRSS")
	idle := settledRSS(t, pid, idleRSSTarget)
	t.Logf("%d calls in %v: VmRSS %d kB right after, %d kB idle", calls, time.Since(start).Round(time.Millisecond), busy, idle)
	if idle >= idleRSSTarget {
		t.Errorf("idle VmRSS after %d calls %d kB, want under %d kB (anonymous %d kB, file %d kB)", calls, idle, idleRSSTarget,
			procStatusKB(t, pid, "RssAnon"), procStatusKB(t, pid, "RssFile"))
	}

	_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "shell", Arguments: map[string]any{"command": ": " + strings.Repeat("x", 10<<20), "workdir": ws}})
	if err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("10 MB request: %v, want an error saying it is over the limit", err)
	}
	idle = settledRSS(t, pid, idleRSSTarget)
	t.Logf("after a 10 MB request: VmRSS %d kB idle, peak %d kB", idle, procStatusKB(t, pid, "VmHWM"))
	if idle >= idleRSSTarget {
		t.Errorf("idle VmRSS after a 10 MB request %d kB, want under %d kB (anonymous %d kB, file %d kB)", idle, idleRSSTarget,
			procStatusKB(t, pid, "RssAnon"), procStatusKB(t, pid, "RssFile"))
	}
}
