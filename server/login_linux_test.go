package server

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/execgate/execgate/engine"
	"github.com/execgate/execgate/internal/testbash"
	"github.com/execgate/execgate/internal/testhelp"
)

// These tests run `execgate server` (the real binary, sandbox and patched
// Bash) for a user whose login profile runs programs, prints on both
// outputs and sets up variables, a function and an alias; as root and as
// uid 65534.

// noisyProfile is ~/.profile for the login tests. $RUNS (in the workspace,
// which the sandbox may write) gets a line each time the profile runs.
const noisyProfile = `echo "profile noise on stdout"
echo "profile noise on stderr" >&2
id -u > /dev/null
/bin/true
echo ran >> "$RUNS"
export FROM_PROFILE="set by the profile for $(id -u)"
export PATH="$HOME/bin:$PATH"
unset -v DROPPED_BY_PROFILE
greet() { echo "hello $1"; }
alias hi='echo alias says hi'
shopt -s expand_aliases
`

// loginServer is one `execgate server` whose HOME has a login profile.
type loginServer struct {
	cs       *mcp.ClientSession
	home, ws string
	runDir   string // XDG_RUNTIME_DIR
	uid      int
	stderr   *lockedBuilder
}

type loginUser struct {
	name string
	uid  int
}

// loginUsers are the test's user and, as root, uid 65534.
func loginUsers(t *testing.T) []loginUser {
	users := []loginUser{{"self", os.Geteuid()}}
	if os.Geteuid() == 0 {
		users = append(users, loginUser{"nobody", 65534})
	}
	return users
}

// startLoginServer starts the server as uid in workspace-write mode, its
// HOME holding profile as .profile.
func startLoginServer(t *testing.T, uid int, profile string, env ...string) *loginServer {
	t.Helper()
	base := testhelp.PrivateDir(t)
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	own := func(p string) {
		if err := os.Lchown(p, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	mkdir := func(d string) string {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		own(d)
		return d
	}
	s := &loginServer{uid: uid, stderr: &lockedBuilder{b: &strings.Builder{}}}
	s.home = mkdir(filepath.Join(base, "home"))
	s.runDir = mkdir(filepath.Join(base, "run"))
	// Under /tmp, a writable root, as a workspace usually is; reachable by
	// uid (t.TempDir's parent is private).
	wsBase, err := os.MkdirTemp("", "execgate-login-ws-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(wsBase) })
	if err := os.Chmod(wsBase, 0o755); err != nil {
		t.Fatal(err)
	}
	s.ws = mkdir(filepath.Join(wsBase, "ws"))
	s.writeProfile(t, profile)
	bin := filepath.Join(base, "execgate")
	data, err := os.ReadFile(testhelp.Execgate(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "server", "--sandbox", "workspace-write")
	cmd.Dir = s.ws
	cmd.Env = append([]string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + s.home, "XDG_RUNTIME_DIR=" + s.runDir,
		"EXECGATE_HOME=" + s.home, engine.EnvBash + "=" + testbash.Path(t), "LANG=C.UTF-8",
		"RUNS=" + filepath.Join(s.ws, "runs"), "DROPPED_BY_PROFILE=1"}, env...)
	cmd.Stderr = s.stderr
	if uid != os.Geteuid() {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	s.cs = connect(t, cmd, nil)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server stderr:\n%s", s.stderr)
		}
	})
	return s
}

func (s *loginServer) writeProfile(t *testing.T, profile string) {
	t.Helper()
	p := filepath.Join(s.home, ".profile")
	if err := os.WriteFile(p, []byte(profile), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(p, s.uid, s.uid); err != nil {
		t.Fatal(err)
	}
}

func (s *loginServer) call(t *testing.T, command string, login bool) engine.ShellOutput {
	t.Helper()
	return callShell(t, s.cs, map[string]any{"command": command, "workdir": s.ws, "login": login, "timeout_ms": 30000})
}

// runs is how many times the profile ran.
func (s *loginServer) runs() int {
	b, _ := os.ReadFile(filepath.Join(s.ws, "runs"))
	return strings.Count(string(b), "ran\n")
}

// TestLoginSnapshot: a login call starts from what the profile set up,
// with none of its output and none of its programs in the call's result;
// the profile runs once, again when it changes, and never for a call
// with login false.
func TestLoginSnapshot(t *testing.T) {
	for _, u := range loginUsers(t) {
		t.Run(u.name, func(t *testing.T) {
			s := startLoginServer(t, u.uid, noisyProfile)
			script := `echo "$FROM_PROFILE"; greet you; hi; echo "${DROPPED_BY_PROFILE-dropped}"; /bin/echo "$PATH"`
			want := "set by the profile for " + strconv.Itoa(u.uid) + "\nhello you\nalias says hi\ndropped\n" + s.home + "/bin:"
			for i := range 3 {
				r := s.call(t, script, true)
				if !strings.HasPrefix(r.Output, want) || strings.Contains(r.Output, "noise") || r.ExitCode != 0 {
					t.Fatalf("call %d: exit %d, output %q; want it to start %q, with no profile noise (note %q)", i, r.ExitCode, r.Output, want, r.Note)
				}
				if len(r.Decisions) != 1 || r.Decisions[0].Program != "/bin/echo" {
					t.Errorf("call %d: decisions %+v; want only the call's /bin/echo", i, r.Decisions)
				}
				if r.Note != "" {
					t.Errorf("call %d: note %q", i, r.Note)
				}
			}
			if n := s.runs(); n != 1 {
				t.Errorf("the profile ran %d times for 3 calls, want once", n)
			}
			// The profile's programs were decided and logged, as the
			// snapshot's, not as any call's.
			if log := s.stderr.String(); !strings.Contains(log, "/login") || !strings.Contains(log, "/usr/bin/id") {
				t.Errorf("the server log does not show the profile's execs under the snapshot:\n%s", log)
			}

			r := s.call(t, `echo "${FROM_PROFILE-bare}"; type greet >/dev/null 2>&1; echo $?; echo "${DROPPED_BY_PROFILE-dropped}"`, false)
			if r.Output != "bare\n1\n1\n" {
				t.Errorf("login false: output %q, want a bare shell", r.Output)
			}

			// A changed profile is seen by the next call.
			time.Sleep(10 * time.Millisecond)
			s.writeProfile(t, strings.Replace(noisyProfile, "set by the profile", "changed profile", 1))
			r = s.call(t, `echo "$FROM_PROFILE"`, true)
			if want := "changed profile for " + strconv.Itoa(u.uid) + "\n"; r.Output != want {
				t.Errorf("after the profile changed: output %q, want %q", r.Output, want)
			}
			if n := s.runs(); n != 2 {
				t.Errorf("the profile ran %d times, want twice (once more after the change)", n)
			}
		})
	}
}

// TestLoginSnapshotFailures: a profile that cannot be captured does not
// break calls: they run without it, and say so.
func TestLoginSnapshotFailures(t *testing.T) {
	for _, tt := range []struct {
		name, profile, note string
	}{
		{"exits", "echo bye >&2\nexit 3\n", "exit status 3"},
		{"hangs", "echo waiting >&2\nsleep 60\n", "did not finish within"},
		{"huge", "export HUGE=x\nfor i in {1..23}; do HUGE=$HUGE$HUGE; done\n", "over 8 MiB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, u := range loginUsers(t) {
				t.Run(u.name, func(t *testing.T) {
					s := startLoginServer(t, u.uid, tt.profile)
					for i := range 2 {
						r := s.call(t, "/bin/echo ok", true)
						if r.Output != "ok\n" || r.ExitCode != 0 {
							t.Fatalf("call %d: exit %d, output %q, want ok", i, r.ExitCode, r.Output)
						}
						if !strings.Contains(r.Note, tt.note) || !strings.Contains(r.Note, "without the login profile") {
							t.Errorf("call %d: note %q, want it to say %q and that the profile was left out", i, r.Note, tt.note)
						}
					}
					if log := s.stderr.String(); !strings.Contains(log, "no login environment") {
						t.Errorf("no log line about the failure:\n%s", log)
					}
				})
			}
		})
	}
}

// TestLoginSnapshotNoisyProfile: a profile printing without end, and
// leaving a job behind, is captured all the same.
func TestLoginSnapshotNoisyProfile(t *testing.T) {
	profile := "head -c 50000000 /dev/zero\n(sleep 30; echo late) &\nexport FROM_PROFILE=yes\n"
	s := startLoginServer(t, os.Geteuid(), profile)
	r := s.call(t, `echo "$FROM_PROFILE"`, true)
	if r.Output != "yes\n" || r.Note != "" {
		t.Errorf("output %q (note %q), want yes", r.Output, r.Note)
	}
}

// TestLoginSnapshotPerSandbox: calls under another sandbox get a snapshot
// of their own, taken in that sandbox.
func TestLoginSnapshotPerSandbox(t *testing.T) {
	profile := noisyProfile + `if touch "$HOME/../probe" 2>/dev/null; then export CAN_WRITE=yes; else export CAN_WRITE=no; fi` + "\n"
	s := startLoginServer(t, os.Geteuid(), profile)
	if r := s.call(t, `echo "$CAN_WRITE"`, true); r.Output != "no\n" {
		t.Fatalf("workspace-write: %q", r.Output)
	}
	meta := mcp.Meta{"codex/sandbox-state-meta": map[string]any{"sandboxPolicy": map[string]any{"type": "danger-full-access"}, "sandboxCwd": s.ws}}
	res, err := s.cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "shell", Meta: meta, Arguments: map[string]any{"command": `echo "$CAN_WRITE"`, "workdir": s.ws}})
	if err != nil || res.IsError {
		t.Fatalf("%v %v", err, res)
	}
	if got := text(res); !strings.Contains(got, `"output":"yes\n"`) {
		t.Errorf("danger-full-access: %s", got)
	}
	if n := s.runs(); n != 2 {
		t.Errorf("the profile ran %d times, want once per sandbox", n)
	}
	if r := s.call(t, `echo "$CAN_WRITE"`, true); r.Output != "no\n" {
		t.Errorf("workspace-write again: %q", r.Output)
	}
	if n := s.runs(); n != 2 {
		t.Errorf("the profile ran %d times, want once per sandbox", n)
	}
}

// TestLoginSnapshotUnderPermissionProfile: under a permission profile
// that grants nothing around the runtime directory, the login environment
// file is readable all the same (like Bash and the wrapper), and the
// profile's programs run under that profile.
func TestLoginSnapshotUnderPermissionProfile(t *testing.T) {
	s := startLoginServer(t, os.Geteuid(), noisyProfile)
	state := map[string]any{
		"permissionProfile": map[string]any{"type": "managed", "network": "restricted", "file_system": map[string]any{
			"type": "restricted", "entries": []any{
				map[string]any{"path": map[string]any{"type": "special", "value": map[string]any{"kind": "minimal"}}, "access": "read"},
				map[string]any{"path": map[string]any{"type": "path", "path": s.ws}, "access": "write"},
				map[string]any{"path": map[string]any{"type": "path", "path": s.home}, "access": "read"},
			}}},
		"sandboxCwd": "file://" + s.ws,
	}
	meta := mcp.Meta{"codex/sandbox-state": state, "codex/sandbox-state-meta": state}
	res, err := s.cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "shell", Meta: meta, Arguments: map[string]any{"command": `echo "$FROM_PROFILE"; greet profile; ls ` + s.runDir + ` >/dev/null 2>&1 || echo runtime dir unreadable`, "workdir": s.ws}})
	if err != nil || res.IsError {
		t.Fatalf("%v %v", err, res)
	}
	want := "set by the profile for " + strconv.Itoa(os.Geteuid()) + `\nhello profile\nruntime dir unreadable\n`
	if got := text(res); !strings.Contains(got, `"output":"`+want+`"`) {
		t.Errorf("got %s, want output %q", got, want)
	}
}
