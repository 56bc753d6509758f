package security

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/execgate/execgate/internal/testbash"
	"github.com/execgate/execgate/internal/testbin"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// nobody is the unprivileged user the tests run a second server as.
const nobody = 65534

// A user is who runs the server (and so the sandbox and every escalated
// command) in one variant of an attack test.
type user struct {
	name string
	uid  int // 0: the test's own user
}

// eachUser runs f once as the test's user and, when the test runs as root,
// once more as uid 65534: an attack must fail for both.
func eachUser(t *testing.T, f func(t *testing.T, u user)) {
	t.Helper()
	t.Run("root", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("not running as root")
		}
		f(t, user{name: "root"})
	})
	t.Run("unprivileged", func(t *testing.T) {
		if os.Geteuid() == 0 {
			f(t, user{name: "nobody", uid: nobody})
			return
		}
		f(t, user{name: "self", uid: os.Geteuid()})
	})
}

// setup describes one server for an attack.
type setup struct {
	// Rules is the content of $CODEX_HOME/rules/default.rules.
	Rules string
	// Config is $CODEX_HOME/config.toml, if not empty.
	Config string
	// Args are extra `execgate server` flags (the sandbox mode defaults to
	// workspace-write).
	Args []string
	// Env adds variables to the server's environment (a later one
	// replaces an earlier one of the same name).
	Env []string
	// Bin is the execgate binary to run (default: the one built for the
	// tests).
	Bin string
	// Elicit, if set, answers the server's prompts (the client then speaks
	// protocol 2025-11-25, the last in which a server may prompt during a
	// call); without it the client declares no elicitation capability.
	Elicit func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error)
	// WorkspaceParent is where WS is made: os.TempDir() (a writable root,
	// so a sandboxed command can rename the workspace) when empty;
	// "/var/tmp" puts it where no sandbox can rename it.
	WorkspaceParent string
	// Prepare, if set, runs once the directories exist and before the
	// server starts: what it makes is there before the server's life.
	Prepare func(t *testing.T, w *world)
	// ServerDir, if set, is the server's working directory (as an MCP
	// client that starts servers in / would); the workspace then reaches
	// the server with each call, as Codex's per-call sandbox state
	// (sandboxCwd), rather than as its cwd.
	ServerDir string
	// NoUserNamespaces starts the server where user namespaces cannot be
	// made (see container.noUserNS): every call then runs in the
	// sandbox's layout without namespaces.
	NoUserNamespaces bool
	// NoSeccompListener starts the server where no seccomp listener can
	// be made (see container.noListener): the kernel gate cannot be
	// installed.
	NoSeccompListener bool
	// OldMountAPI starts the server where the new mount API's syscalls
	// fail ENOSYS (see container.oldMountAPI); NoMountSetattr where
	// mount_setattr alone does (container.noMountSetattr).
	OldMountAPI, NoMountSetattr bool
}

// world is one running server with its directories:
//
//	Home     CODEX_HOME (rules, config), outside every writable root
//	WS       the workspace: the server's cwd, a writable root, under /tmp
//	         (or setup.WorkspaceParent)
//	Out      a directory the user owns that no sandbox may write: a file
//	         appearing here was written by something outside the sandbox
type world struct {
	User      user
	Home      string
	WS        string
	Out       string
	Stderr    *syncBuffer
	run       string   // XDG_RUNTIME_DIR
	meta      mcp.Meta // sent with every call that sends none of its own
	client    *mcp.ClientSession
	serverPid int
}

// start builds execgate (once per test binary) and starts `execgate server`
// as u, with s's rules and flags, connected through the SDK client over the
// server's stdin and stdout.
func start(t *testing.T, u user, s setup) *world {
	t.Helper()
	w := newWorld(t, u, s)
	if err := w.serve(t, s); err != nil {
		t.Fatal(err)
	}
	return w
}

// newWorld makes the directories of a server run as u, with s's rules and
// config in Home, without starting the server: a test may change them (or
// Home itself) first, then call serve.
func newWorld(t *testing.T, u user, s setup) *world {
	t.Helper()
	// Out and Home live outside /tmp (a writable root in workspace-write);
	// WS lives under /tmp so that attacks on the writable parent of a
	// workspace are possible, as they are with the default roots.
	w := &world{User: u, Stderr: &syncBuffer{}}
	w.Home = userDir(t, u, "/var/tmp", "home")
	w.Out = userDir(t, u, "/var/tmp", "out")
	wsParent := s.WorkspaceParent
	if wsParent == "" {
		wsParent = os.TempDir()
	}
	w.WS = userDir(t, u, wsParent, "ws")
	if s.Rules != "" {
		rules := filepath.Join(w.Home, "rules")
		mkdirOwned(t, u, rules)
		writeOwned(t, u, filepath.Join(rules, "default.rules"), s.Rules)
	}
	if s.Config != "" {
		writeOwned(t, u, filepath.Join(w.Home, "config.toml"), s.Config)
	}
	w.run = userDir(t, u, "/var/tmp", "run")
	if s.Prepare != nil {
		s.Prepare(t, w)
	}
	return w
}

// serve starts `execgate server` for w with s's flags, environment and
// prompt handler (CODEX_HOME is w.Home, the working directory w.WS). It
// returns an error, with the server's stderr, when the server does not
// come up. A world whose server has stopped may serve again (a restart).
func (w *world) serve(t *testing.T, s setup) error {
	t.Helper()
	bin := s.Bin
	if bin == "" {
		bin = testbin.Must(t, testbin.Execgate)
	}
	bash := testbash.Path(t)
	args := append([]string{"server", "--sandbox", "workspace-write"}, s.Args...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = w.WS
	if s.ServerDir != "" {
		cmd.Dir = s.ServerDir
		w.meta = mcp.Meta{"codex/sandbox-state-meta": map[string]any{"sandboxCwd": w.WS}}
	}
	cmd.Env = append([]string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=" + w.Home,
		"CODEX_HOME=" + w.Home,
		"XDG_RUNTIME_DIR=" + w.run,
		"EXECGATE_BASH=" + bash,
		"LANG=C.UTF-8",
	}, s.Env...)
	cmd.Stderr = w.Stderr
	u := w.User
	if u.uid != os.Geteuid() {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.uid), Gid: uint32(u.uid)}}
	}

	var copts mcp.ClientOptions
	var sopts mcp.ClientSessionOptions
	if s.Elicit != nil {
		copts.ElicitationHandler = s.Elicit
		sopts.ProtocolVersion = "2025-11-25"
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "execgate-security-test", Version: "0"}, &copts)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var cs *mcp.ClientSession
	connect := func() (err error) {
		cs, err = client.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 5 * time.Second}, &sopts)
		return err
	}
	if err := (container{noUserNS: s.NoUserNamespaces, noListener: s.NoSeccompListener,
		oldMountAPI: s.OldMountAPI, noMountSetattr: s.NoMountSetattr}).run(connect); err != nil {
		return fmt.Errorf("starting execgate server as %s: %w\nstderr:\n%s", u.name, err, w.Stderr)
	}
	w.client = cs
	if cmd.Process != nil {
		w.serverPid = cmd.Process.Pid
	}
	t.Cleanup(func() {
		cs.Close()
		if t.Failed() {
			t.Logf("server stderr:\n%s", w.Stderr)
		}
	})
	return nil
}

// stop ends the server (closing its stdin) and waits for it.
func (w *world) stop() { w.client.Close() }

// shellResult is the tool's structuredContent.
type shellResult struct {
	ExitCode  int        `json:"exit_code"`
	Output    string     `json:"output"`
	TimedOut  bool       `json:"timed_out"`
	Decisions []decision `json:"decisions"`
	Note      string     `json:"note"`
}

type decision struct {
	Program    string   `json:"program"`
	Argv       []string `json:"argv"`
	Decision   string   `json:"decision"`
	Rule       string   `json:"rule"`
	Reason     string   `json:"reason"`
	Executable string   `json:"executable"`
}

// shell runs one `shell` call in the workspace (login false, 20 s).
func (w *world) shell(t *testing.T, command string) shellResult {
	t.Helper()
	return w.shellIn(t, w.WS, command)
}

// shellIn runs one `shell` call with workdir dir.
func (w *world) shellIn(t *testing.T, dir, command string) shellResult {
	t.Helper()
	res, toolErr := w.call(t, dir, command, nil)
	if toolErr != "" {
		t.Fatalf("tools/call %q: tool error: %s", command, toolErr)
	}
	return res
}

// shellLogin runs one `shell` call in the workspace with login true.
func (w *world) shellLogin(t *testing.T, command string) shellResult {
	t.Helper()
	res, toolErr := w.callLogin(t, w.WS, command, nil, true)
	if toolErr != "" {
		t.Fatalf("tools/call %q: tool error: %s", command, toolErr)
	}
	return res
}

// call runs one `shell` call with workdir dir and the given _meta (nil for
// none). A tool error is returned as its text, not failed on.
func (w *world) call(t *testing.T, dir, command string, meta mcp.Meta) (shellResult, string) {
	t.Helper()
	return w.callLogin(t, dir, command, meta, false)
}

// callLogin is call with the given login argument.
func (w *world) callLogin(t *testing.T, dir, command string, meta mcp.Meta, login bool) (shellResult, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if meta == nil {
		meta = w.meta
	}
	res, err := w.client.CallTool(ctx, &mcp.CallToolParams{Name: "shell", Meta: meta, Arguments: map[string]any{
		"command": command, "workdir": dir, "login": login, "timeout_ms": 20000,
	}})
	if err != nil {
		t.Fatalf("tools/call %q: %v", command, err)
	}
	if res.IsError {
		var text []string
		for _, c := range res.Content {
			if tc, ok := c.(*mcp.TextContent); ok {
				text = append(text, tc.Text)
			}
		}
		return shellResult{}, strings.Join(text, "\n")
	}
	var out shellResult
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("structuredContent %s: %v", b, err)
	}
	return out, ""
}

// payload returns a shell command that records, in Out, that it ran and
// where: the marker file can only appear if the command ran outside the
// sandbox (no sandbox can write Out). It is for the attacker's script to
// plant and get executed.
func (w *world) payload(name string) string {
	return fmt.Sprintf("grep -s Seccomp: /proc/self/status > %s; id -u >> %s", shq(w.marker(name)), shq(w.marker(name)))
}

func (w *world) marker(name string) string { return filepath.Join(w.Out, "escaped-"+name) }

// assertConfined fails the test if the payload called name ran outside the
// sandbox. res is the attack call's result, for the failure message.
func (w *world) assertConfined(t *testing.T, name string, res shellResult) {
	t.Helper()
	if b, err := os.ReadFile(w.marker(name)); err == nil {
		t.Errorf("ATTACK %s SUCCEEDED as %s: the payload ran outside the sandbox (%q)\noutput: %s\ndecisions: %+v",
			name, w.User.name, b, res.Output, res.Decisions)
	}
}

// escaped reports whether the payload called name ran outside the sandbox.
func (w *world) escaped(name string) bool {
	_, err := os.Stat(w.marker(name))
	return err == nil
}

// userDir makes a fresh directory under parent owned by u, reachable by u.
func userDir(t *testing.T, u user, parent, name string) string {
	t.Helper()
	base, err := os.MkdirTemp(parent, "execgate-sec-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	d := filepath.Join(base, name)
	mkdirOwned(t, u, d)
	// Resolved, so that paths the server reports compare equal.
	if r, err := filepath.EvalSymlinks(d); err == nil {
		d = r
	}
	return d
}

func mkdirOwned(t *testing.T, u user, dir string) {
	t.Helper()
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	chown(t, u, dir)
}

func writeOwned(t *testing.T, u user, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	chown(t, u, path)
}

func chown(t *testing.T, u user, path string) {
	t.Helper()
	if u.uid == os.Geteuid() {
		return
	}
	if err := os.Lchown(path, u.uid, u.uid); err != nil {
		t.Fatal(err)
	}
}

// removeAll removes what the tests made, including read-only directories an
// attack may have left.
func removeAll(dir string) {
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	os.RemoveAll(dir)
}

// shq quotes s for a POSIX shell.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// syncBuffer collects the server's stderr.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
