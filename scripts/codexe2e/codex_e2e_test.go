package codexe2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/execgate/execgate/internal/testbash"
	"github.com/execgate/execgate/internal/testbin"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// codex is one Codex release: the npm package and the static binary in it.
type codex struct {
	version string
	pkg     string // npm package spec
	member  string // the binary inside the package tarball
	// noDaemon is the TUI flag that keeps the MCP server in the TUI's
	// process tree (0.171 otherwise hands it to a shared daemon).
	noDaemon bool
}

var releases = []codex{
	{"0.171.0", "@openai/codex@0.171.0-linux-x64", "package/vendor/x86_64-unknown-linux-musl/bin/codex", true},
	{"0.97.0", "@openai/codex@0.97.0", "package/vendor/x86_64-unknown-linux-musl/codex/codex", false},
}

func TestCodexEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("fetches Codex from npm")
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the Codex binaries used here are for linux/amd64")
	}
	for _, c := range releases {
		t.Run(c.version, func(t *testing.T) {
			bin := fetch(t, c)
			t.Run("exec workspace-write writes the workspace", func(t *testing.T) {
				e := newEnv(t, c, bin)
				out := e.exec(t, "workspace-write", "run: echo hi > ww.txt && cat ww.txt")
				if _, err := os.Stat(filepath.Join(e.work, "ww.txt")); err != nil {
					t.Fatalf("ww.txt not written (%v); codex said:\n%s\nmodel log:\n%s", err, out, e.toolOutputs())
				}
				if !strings.Contains(e.toolOutputs(), `\"exit_code\":0`) && !strings.Contains(e.toolOutputs(), `"exit_code":0`) {
					t.Errorf("tool output:\n%s", e.toolOutputs())
				}
			})
			t.Run("exec read-only is refused", func(t *testing.T) {
				e := newEnv(t, c, bin)
				out := e.exec(t, "read-only", "run: echo hi > ro.txt")
				if _, err := os.Stat(filepath.Join(e.work, "ro.txt")); err == nil {
					t.Fatalf("ro.txt written under -s read-only; codex said:\n%s", out)
				}
				if !strings.Contains(e.toolOutputs(), "Permission denied") && !strings.Contains(e.toolOutputs(), "Read-only file system") {
					t.Errorf("tool output does not show the refusal:\n%s", e.toolOutputs())
				}
			})
			t.Run("TUI approves a prompt rule", func(t *testing.T) {
				e := newEnv(t, c, bin)
				e.tui(t)
			})
		})
	}
}

// fetch returns the Codex binary of c, from the cache or npm.
func fetch(t *testing.T, c codex) string {
	t.Helper()
	cache := os.Getenv("EXECGATE_CODEX_CACHE")
	if cache == "" {
		root, err := filepath.Abs("../..")
		if err != nil {
			t.Fatal(err)
		}
		cache = filepath.Join(root, "build", "codex")
	}
	bin := filepath.Join(cache, c.version, "codex")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skipf("npm is not installed: cannot fetch %s", c.pkg)
	}
	tmp := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "pack", "--silent", "--fetch-timeout=60000", "--fetch-retries=1", "--pack-destination", tmp, c.pkg)
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Skipf("cannot fetch %s from npm: %v\n%s", c.pkg, err, out)
	}
	tgz := filepath.Join(tmp, strings.TrimSpace(lastLine(string(out))))
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("tar", "-xzf", tgz, "-C", tmp, c.member).CombinedOutput(); err != nil {
		t.Fatalf("unpacking %s from %s: %v\n%s", c.member, tgz, err, out)
	}
	if err := os.Rename(filepath.Join(tmp, c.member), bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// env is one Codex home, workspace and mock model.
type env struct {
	c                codex
	codex            string
	home, work, logf string
}

func newEnv(t *testing.T, c codex, bin string) *env {
	t.Helper()
	execgate := testbin.Must(t, testbin.Execgate)
	mock := testbin.Must(t, "github.com/execgate/execgate/scripts/mockmodel")
	bash := testbash.Path(t)
	// Outside /tmp, which workspace-write makes writable.
	base, err := os.MkdirTemp("/var/tmp", "execgate-codex-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	e := &env{c: c, codex: bin, home: filepath.Join(base, "home"), work: filepath.Join(base, "work"), logf: filepath.Join(base, "model.jsonl")}
	for _, d := range []string{e.home + "/rules", e.work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	portFile := filepath.Join(base, "port")
	m := exec.Command(mock, "-workdir", e.work, "-port-file", portFile, "-log", e.logf)
	m.Stderr = os.Stderr
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Process.Kill(); m.Wait() })
	var port []byte
	for range 100 {
		if port, err = os.ReadFile(portFile); err == nil && len(port) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(port) == 0 {
		t.Fatal("the mock model did not start")
	}
	rules := `prefix_rule(pattern=["touch"], decision="prompt", justification="codex e2e")` + "\n"
	if err := os.WriteFile(e.home+"/rules/e2e.rules", []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`model = "mock-model"
model_provider = "mock"

[model_providers.mock]
name = "mock"
base_url = "http://127.0.0.1:%s/v1"
wire_api = "responses"

[mcp_servers.execgate]
command = %q
args = ["server"]
env = { CODEX_HOME = %q, EXECGATE_BASH = %q }
default_tools_approval_mode = "approve"

[features]
shell_tool = false

[projects.%q]
trust_level = "trusted"
`, port, execgate, e.home, bash, e.work)
	if err := os.WriteFile(e.home+"/config.toml", []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) environ() []string {
	return []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + e.home, "CODEX_HOME=" + e.home,
		"OPENAI_API_KEY=offline-test", "LANG=C.UTF-8", "TERM=xterm-256color"}
}

// exec runs `codex exec` with prompt under sandbox mode.
func (e *env) exec(t *testing.T, mode, prompt string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.codex, "exec", "--skip-git-repo-check", "-s", mode, "-C", e.work, prompt)
	cmd.Dir, cmd.Env = e.work, e.environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("codex exec: %v\n%s", err, out)
	}
	return string(out)
}

// toolOutputs is what the shell tool returned to the model, from the
// requests the mock model received.
func (e *env) toolOutputs() string {
	f, err := os.Open(e.logf)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var b strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.LastIndex(line, `"function_call_output"`); i >= 0 {
			b.WriteString(line[i:min(len(line), i+2000)])
			b.WriteString("\n")
		}
	}
	return b.String()
}

// tui starts the interactive Codex in tmux, asks the model to touch a file
// (a prompt rule), waits for execgate's question and approves it with
// Enter, the first choice (allow once).
func (e *env) tui(t *testing.T) {
	t.Helper()
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed: cannot drive the TUI")
	}
	sock := fmt.Sprintf("execgate-e2e-%d-%s", os.Getpid(), strings.ReplaceAll(e.c.version, ".", ""))
	run := func(args ...string) (string, error) {
		out, err := exec.Command(tmux, append([]string{"-L", sock}, args...)...).CombinedOutput()
		return string(out), err
	}
	args := []string{"-s", "workspace-write", "-c", `approval_policy="on-request"`, "-C", e.work}
	if e.c.noDaemon {
		args = append([]string{"--no-daemon"}, args...)
	}
	shell := "cd " + shq(e.work) + " && exec env -i " + strings.Join(quoteAll(e.environ()), " ") + " " + shq(e.codex) + " " + strings.Join(quoteAll(args), " ")
	if out, err := run("new-session", "-d", "-s", "e2e", "-x", "200", "-y", "50", shell); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		run("kill-server")
		// tmux leaves its socket behind.
		os.Remove(filepath.Join("/tmp", fmt.Sprintf("tmux-%d", os.Getuid()), sock))
	})
	screen := func() string { out, _ := run("capture-pane", "-p", "-t", "e2e"); return out }
	waitFor := func(what string, ok func(string) bool) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for !ok(screen()) {
			if time.Now().After(deadline) {
				t.Fatalf("no %s on the screen within 90s:\n%s\nmodel saw:\n%s", what, screen(), e.toolOutputs())
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	waitFor("input prompt", func(s string) bool { return strings.Contains(s, "›") })
	time.Sleep(time.Second) // the composer takes keys a moment after it shows
	run("send-keys", "-t", "e2e", "-l", "run: touch tui.txt")
	time.Sleep(500 * time.Millisecond)
	run("send-keys", "-t", "e2e", "Enter")
	waitFor("execgate's question", func(s string) bool { return strings.Contains(s, "Allow the agent to run") })
	var shown []string
	for _, l := range strings.Split(screen(), "\n") {
		if strings.TrimSpace(l) != "" {
			shown = append(shown, l)
		}
	}
	t.Logf("question:\n%s", strings.Join(shown, "\n"))
	run("send-keys", "-t", "e2e", "Enter")
	file := filepath.Join(e.work, "tui.txt")
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(file); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) || time.Now().After(deadline) {
			t.Fatalf("tui.txt not written after approving (%v):\n%s\nmodel saw:\n%s", err, screen(), e.toolOutputs())
		}
		time.Sleep(250 * time.Millisecond)
	}
	// The escalated touch writes the file before Codex hands the call's
	// result to the model: wait for that result too.
	for !strings.Contains(e.toolOutputs(), "user approved: allow once") {
		if time.Now().After(deadline) {
			t.Fatalf("the decision was not an approval:\n%s", e.toolOutputs())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = shq(s)
	}
	return out
}
