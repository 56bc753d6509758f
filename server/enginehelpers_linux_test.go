package server

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/execgate/execgate/internal/testbash"
	"github.com/execgate/execgate/internal/testbin"
)

// The engine tests run the real thing: the execgate binary (built once per
// test process, static, as `make build` builds it; the wrapper is a symlink
// to it) as sandbox helper and wrapper, the patched Bash, the real sandbox
// and escalate session.

// TestMain removes the binaries the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// execgateSelf is the execgate binary for the engine to re-exec.
func execgateSelf(t testing.TB) string {
	t.Helper()
	return testbin.Must(t, testbin.Execgate)
}

// testEngine is an engine over a private configuration home holding rules.
type testEngine struct {
	*engine
	home string
	opts *Options
}

// newTestEngine builds an engine whose configuration home (EXECGATE_HOME)
// holds rules as rules/test.rules; edit may change the options first.
func newTestEngine(t testing.TB, rules string, edit func(*Options)) *testEngine {
	t.Helper()
	return newTestEngineWith(t, execgateSelf(t), rules, edit)
}

// newTestEngineWith is newTestEngine with self as the execgate binary.
func newTestEngineWith(t testing.TB, self, rules string, edit func(*Options)) *testEngine {
	t.Helper()
	return newTestEngineLog(t, self, rules, edit, testLogger(nil))
}

// newTestEngineLog is newTestEngineWith logging the engine's messages to log.
func newTestEngineLog(t testing.TB, self, rules string, edit func(*Options), log *slog.Logger) *testEngine {
	t.Helper()
	home := rulesHome(t, rules)
	t.Setenv("EXECGATE_HOME", home)
	opts := DefaultOptions()
	opts.Bash = testbash.Path(t)
	opts.Explicit["bash"] = true
	if edit != nil {
		edit(opts)
	}
	e, err := newEngine(opts, log, self)
	if err != nil {
		t.Fatalf("newEngine: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return &testEngine{engine: e, home: home, opts: opts}
}

// rulesHome is a private configuration home holding rules as
// rules/test.rules (none when rules is empty).
func rulesHome(t testing.TB, rules string) string {
	t.Helper()
	home := privateDir(t)
	if rules != "" {
		writeTestFile(t, filepath.Join(home, "rules", "test.rules"), rules)
	}
	return home
}

// uniqueMarker is a string no other process on the machine has; scripts
// export it (markEnv) so that every process they start carries it.
const markEnv = "EXECGATE_TEST_MARK"

func uniqueMarker(t testing.TB) string {
	return fmt.Sprintf("execgate-marker-%d-%d", os.Getpid(), time.Now().UnixNano())
}

// withMarker lists the live processes whose command line or environment
// holds marker.
func withMarker(marker string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		environ, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
		if !bytes.Contains(cmdline, []byte(marker)) && !bytes.Contains(environ, []byte(marker)) {
			continue
		}
		if zombie(procStat(e.Name())) {
			continue
		}
		out = append(out, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	return out
}

// assertNoneLeft fails if a process with marker is alive (after a short
// wait for reaping), and kills it.
func assertNoneLeft(t testing.TB, marker string) {
	t.Helper()
	var left []string
	for deadline := time.Now().Add(500 * time.Millisecond); ; time.Sleep(20 * time.Millisecond) {
		if left = withMarker(marker); len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			break
		}
	}
	for _, l := range left {
		pid, _ := strconv.Atoi(strings.SplitN(l, ":", 2)[0])
		syscall.Kill(pid, syscall.SIGKILL)
	}
	t.Errorf("processes outlived the call: %q", left)
}
