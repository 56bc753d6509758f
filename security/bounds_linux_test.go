package security

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Anything inside a call can open exec streams, send frames and ask for
// escalations as fast as it likes. The server must stay within bounds
// (memory, threads, log lines) and refuse what is beyond them with a clear
// error, the wrapper failing closed (126).

// TestStreamFloodIsBounded: 300 idle exec streams in one call. Beyond the
// call's bound they are refused, and an ordinary exec made meanwhile fails
// closed with the server's message; the log says so once.
func TestStreamFloodIsBounded(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{})
		stats := w.sample(t)
		// forge holds its streams until its input ends. The datagram queue
		// is FIFO: the exec's handshake comes after forge's 300. Meanwhile
		// the script waits with builtins only: every exec fails.
		res := w.shell(t, "mkfifo hold pause; exec 8<> pause; "+forge(t, "idle", "300")+" < hold > opened & exec 9> hold; "+
			"until [[ -s opened ]]; do read -t 0.1 -u 8; done; /bin/true; echo true=$?; exec 9>&-; wait")
		s := stats()
		t.Logf("300 idle streams: server threads max %d, RSS max %d KiB; output %q", s.threads, s.rssKiB, res.Output)
		if !strings.Contains(res.Output, "too many exec streams open at once in this call") || !strings.Contains(res.Output, "true=126") {
			t.Errorf("the exec made during the flood did not fail closed with the server's reason: %q", res.Output)
		}
		if n := escalateLogLines(w); n > 3 {
			t.Errorf("%d escalate log lines for one flood, want at most 3:\n%s", n, w.Stderr)
		}
		// The call is over: the streams are gone and execs work again.
		if res := w.shell(t, "/bin/true; echo true=$?"); !strings.Contains(res.Output, "true=0") {
			t.Errorf("after the flood: %q", res.Output)
		}
	})
}

// TestBigFramesAreBounded: 24 streams each announce a maximal request and
// send all of it but the last byte. Only a few fit the call's bound on
// request bytes in flight; the server's memory stays bounded.
func TestBigFramesAreBounded(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{})
		before := w.sample(t)()
		stats := w.sample(t)
		res := w.shell(t, "sleep 3 | "+forge(t, "bigframe", "24", strconv.Itoa(4<<20)))
		s := stats()
		t.Logf("24 maximal frames: server RSS %d KiB before, max %d KiB during; output %q", before.rssKiB, s.rssKiB, res.Output)
		if grew := s.rssKiB - before.rssKiB; grew > 64<<10 {
			t.Errorf("server RSS grew by %d KiB, want at most 64 MiB", grew)
		}
	})
}

// TestEscalationFloodIsBounded: 100 escalated commands at once, each
// blocked on its input. Beyond the call's bound they fail closed with the
// server's reason, and the server does not spend an OS thread on each.
//
// Each cat reads a FIFO whose only writer is the script (fd 9), which
// closes it once a cat has been refused (or after a minute): the cats that
// were let through hold their slots until then however slowly the machine
// starts the others. The script waits with builtins only.
func TestEscalationFloodIsBounded(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: `prefix_rule(pattern=["cat"], decision="allow")` + "\n"})
		stats := w.sample(t)
		res := w.shell(t, "mkfifo hold pause; exec 8<> pause 9<> hold; "+
			"for i in $(seq 100); do ( exec 9>&-; cat < hold; r=$?; [[ $r = 126 ]] && echo >> refused; echo cat=$r ) & done; "+
			"for ((i = 0; i < 600; i++)); do [[ -s refused ]] && break; read -t 0.1 -u 8; done; exec 9>&-; wait")
		s := stats()
		refused := strings.Count(res.Output, "cat=126")
		t.Logf("100 blocked escalated cat: server threads max %d, RSS max %d KiB, %d refused", s.threads, s.rssKiB, refused)
		if refused == 0 || !strings.Contains(res.Output, "too many escalated commands running at once in this call") {
			t.Errorf("no escalation was refused with the server's reason: %q", res.Output)
		}
		if strings.Count(res.Output, "cat=0") == 0 {
			t.Errorf("no escalation ran: %q", res.Output)
		}
		if s.threads > 40 {
			t.Errorf("the server ran %d threads for 100 escalations", s.threads)
		}
	})
}

// TestProtocolJunkLogsOnce: thousands of malformed handshakes and streams
// closed without a request make one log line and one count.
func TestProtocolJunkLogsOnce(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{})
		w.shell(t, forge(t, "junk", "4000"))
		// The server logs the count before it answers the call, but its
		// stderr reaches w.Stderr through a pipe and a copying goroutine:
		// only once the server has exited (stop waits for it, and so for
		// the copy) is all it wrote there.
		w.stop()
		log := w.Stderr.String()
		if n := escalateLogLines(w); n != 2 {
			t.Errorf("%d escalate log lines for thousands of protocol errors, want 2:\n%.2000s", n, log)
		}
		// Some junk datagrams may be dropped by a full socket queue; each
		// stream closed without a request counts.
		_, count, _ := strings.Cut(log, "protocol problems in this call")
		_, count, _ = strings.Cut(count, "count=")
		if n, _ := strconv.Atoi(strings.Fields(count + " ")[0]); n < 4000 {
			t.Errorf("the log counts %d protocol problems, want at least 4000:\n%.2000s", n, log)
		}
	})
}

// escalateLogLines counts the server's log lines about the escalate
// protocol.
func escalateLogLines(w *world) int {
	n := 0
	for _, line := range strings.Split(w.Stderr.String(), "\n") {
		if strings.Contains(line, "escalate:") {
			n++
		}
	}
	return n
}

// serverStats are the largest figures seen for the server process.
type serverStats struct{ threads, rssKiB int }

// sample watches the server process until the returned function is called,
// which returns the largest thread count and RSS seen.
func (w *world) sample(t *testing.T) func() serverStats {
	ctx, cancel := context.WithCancel(context.Background())
	var (
		mu  sync.Mutex
		max serverStats
	)
	read := func() {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(w.serverPid) + "/status")
		if err != nil {
			return
		}
		var now serverStats
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			switch {
			case len(f) >= 2 && f[0] == "Threads:":
				now.threads, _ = strconv.Atoi(f[1])
			case len(f) >= 2 && f[0] == "VmRSS:":
				now.rssKiB, _ = strconv.Atoi(f[1])
			}
		}
		mu.Lock()
		max.threads = maxInt(max.threads, now.threads)
		max.rssKiB = maxInt(max.rssKiB, now.rssKiB)
		mu.Unlock()
	}
	read()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			read()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return func() serverStats {
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return max
	}
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}
