// Package testhelp holds what the server's and the engine's tests share:
// private directories, files, a discarding logger, the execgate binary
// built for them, and the processes a call leaves behind.
package testhelp

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/execgate/execgate/internal/testbin"
)

// MarkEnv is the variable scripts export a marker in, so that every
// process they start carries it.
const MarkEnv = "EXECGATE_TEST_MARK"

// UniqueMarker is a string no other process on the machine has (see
// MarkEnv).
func UniqueMarker(t testing.TB) string {
	return fmt.Sprintf("execgate-marker-%d-%d", os.Getpid(), time.Now().UnixNano())
}

// WithMarker lists the live processes whose command line or environment
// holds marker.
func WithMarker(marker string) []string {
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
		if Zombie(ProcStat(e.Name())) {
			continue
		}
		out = append(out, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	return out
}

// AssertNoneLeft fails if a process with marker is alive (after a short
// wait for reaping), and kills it.
func AssertNoneLeft(t testing.TB, marker string) {
	t.Helper()
	var left []string
	for deadline := time.Now().Add(500 * time.Millisecond); ; time.Sleep(20 * time.Millisecond) {
		if left = WithMarker(marker); len(left) == 0 {
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

// Execgate is the execgate binary for the engine to re-exec.
func Execgate(t testing.TB) string {
	t.Helper()
	return testbin.Must(t, testbin.Execgate)
}

// ProcStat returns the fields of /proc/PID/stat after the command name
// (state, ppid, ...), nil when it cannot be read (no such process, no /proc).
func ProcStat(pid string) []string {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return nil
	}
	// The fields follow the ")" closing the command name, which may hold
	// spaces and parentheses.
	s := string(data)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}

// Zombie reports whether the stat fields are those of a zombie, which runs
// nothing and awaits its reaper.
func Zombie(stat []string) bool {
	return len(stat) > 0 && stat[0] == "Z"
}

// Gone reports whether pid has exited (absent or a zombie awaiting its reaper).
func Gone(pid int) bool {
	stat := ProcStat(strconv.Itoa(pid))
	if stat == nil {
		return syscall.Kill(pid, 0) == syscall.ESRCH
	}
	return Zombie(stat)
}

// WaitGone waits for the process whose pid is in pidFile to exit, killing
// it and failing the test if it lives on.
func WaitGone(t *testing.T, pidFile string) {
	t.Helper()
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("pid file %q: %v", data, err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for !Gone(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d outlived the call", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// PrivateDir is a temporary directory outside every writable root of the
// sandbox (/tmp and $TMPDIR are writable in workspace-write mode).
func PrivateDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("/var/tmp", "execgate-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// Logger is a logger that discards everything.
func Logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Exists reports whether p exists.
func Exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// WriteFile writes content to path (0600), making its directory first.
func WriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// RulesHome is a private configuration home holding rules as
// rules/test.rules (none when rules is empty).
func RulesHome(t testing.TB, rules string) string {
	t.Helper()
	home := PrivateDir(t)
	if rules != "" {
		WriteFile(t, filepath.Join(home, "rules", "test.rules"), rules)
	}
	return home
}

// ProjectTree makes projects (each a directory with .git) under root, with
// rules files given as "project/relative/path.rules" -> content.
func ProjectTree(t *testing.T, root string, projects []string, rules map[string]string) {
	t.Helper()
	for _, p := range projects {
		if err := os.MkdirAll(filepath.Join(root, p, ".git"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for f, content := range rules {
		WriteFile(t, filepath.Join(root, f), content)
	}
}

// TrustProjects writes the configuration home's config.toml (the home is
// EXECGATE_HOME) giving each project directory its trust level.
func TrustProjects(levels map[string]string) {
	var b strings.Builder
	for dir, level := range levels {
		fmt.Fprintf(&b, "[projects.%q]\ntrust_level = %q\n", dir, level)
	}
	home := os.Getenv("EXECGATE_HOME")
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(b.String()), 0o600); err != nil {
		panic(err)
	}
}

// EngineRules allows, forbids and prompts for touch/rm on paths in out,
// a directory outside every writable root.
func EngineRules(out string) string {
	return fmt.Sprintf(`prefix_rule(pattern=["touch", %[1]q], decision="allow")
prefix_rule(pattern=["rm", %[2]q], decision="forbidden", justification="keep it")
prefix_rule(pattern=["touch", %[3]q], decision="prompt", justification="needs a human")
`, filepath.Join(out, "allowed"), filepath.Join(out, "keep"), filepath.Join(out, "prompted"))
}

// OpenFds counts this process's open descriptors, to check that something
// leaks none.
func OpenFds(t testing.TB) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// CheckCloexec fails the test unless fd is close-on-exec.
func CheckCloexec(t testing.TB, what string, fd int) {
	t.Helper()
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("%s %d is not close-on-exec (flags %#x, err %v)", what, fd, flags, err)
	}
}

// LogBuffer collects log lines written from many goroutines.
type LogBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// GoroutineState is the state, as a goroutine dump shows it ("IO wait",
// "syscall", "running", ...), of the first goroutine of this process whose
// stack holds fn; "" if none. Tests use it to tell a goroutine parked in
// the netpoller from one holding a thread in a blocking system call.
func GoroutineState(fn string) string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, fn) {
			continue
		}
		if head, _, ok := strings.Cut(g, "]"); ok {
			if _, state, ok := strings.Cut(head, "["); ok {
				return state
			}
		}
	}
	return ""
}
