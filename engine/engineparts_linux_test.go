package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/companion"
	"github.com/execgate/execgate/internal/testbash"
	"github.com/execgate/execgate/internal/testhelp"
	"github.com/execgate/execgate/policy"
)

func TestFindBash(t *testing.T) {
	patched := testbash.Path(t)
	prefix := t.TempDir()
	installed := filepath.Join(prefix, "libexec", "execgate", "bash")
	checkout := t.TempDir()
	built := filepath.Join(checkout, "build", "bash", "bin", "bash")
	for _, p := range []string{installed, built} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(checkout, "go.mod"), []byte("module github.com/execgate/execgate\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A checkout without a built Bash, with a package directory and a
	// nested module of another name.
	unbuilt := t.TempDir()
	for dir, mod := range map[string]string{unbuilt: "github.com/execgate/execgate", filepath.Join(checkout, "testdata", "other"): "example.com/other"} {
		if err := os.MkdirAll(filepath.Join(dir, "server"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module "+mod+"\n\ngo 1.26\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Where `go run` links the program, and where it runs it from the
	// build cache.
	goRun := filepath.Join(os.TempDir(), "go-build1234567", "b001", "exe", "execgate")
	hash := strings.Repeat("b6", 32)
	goRunCached := filepath.Join("/root/.cache/go-build", hash[:2], hash+"-d", "execgate")
	tests := []struct {
		name       string
		flag       string
		env        map[string]string
		exe        string
		cwd        string
		want       string
		wantSource string
		wantErr    string
	}{
		{name: "flag wins", flag: patched, env: map[string]string{EnvBash: "/nope"}, want: patched, wantSource: "flag --bash"},
		{name: "missing flag is an error", flag: "/no/such/bash", exe: filepath.Join(prefix, "bin", "execgate"), wantErr: "flag --bash"},
		{name: "EXECGATE_BASH", env: map[string]string{EnvBash: patched, envCodexBash: "/nope"}, want: patched, wantSource: "$EXECGATE_BASH"},
		{name: "CODEX_BASH_PATH", env: map[string]string{envCodexBash: patched}, want: patched, wantSource: "$CODEX_BASH_PATH"},
		{name: "not executable", env: map[string]string{EnvBash: filepath.Join(checkout, "go.mod")}, wantErr: "not executable"},
		{name: "install prefix", exe: filepath.Join(prefix, "bin", "execgate"), want: installed, wantSource: "install prefix"},
		{name: "source checkout, build/execgate", exe: filepath.Join(checkout, "build", "execgate"), want: built, wantSource: "source checkout"},
		{name: "source checkout, ./execgate", exe: filepath.Join(checkout, "execgate"), want: built, wantSource: "source checkout"},
		{name: "nothing found", exe: "/usr/local/bin/execgate", wantErr: "scripts/build-bash.sh"},
		{name: "go run in the checkout", exe: goRun, cwd: filepath.Join(checkout, "build"), want: built, wantSource: "checkout of the working directory (go run)"},
		{name: "go run from the build cache", exe: goRunCached, cwd: checkout, want: built, wantSource: "checkout of the working directory (go run)"},
		{name: "not the build cache", exe: filepath.Join("/opt", hash[:2], hash+"-x", "execgate"), cwd: checkout, wantErr: "scripts/build-bash.sh"},
		{name: "go run in an unbuilt checkout", exe: goRun, cwd: filepath.Join(unbuilt, "server"), wantErr: "build it with `make bash` in " + unbuilt},
		{name: "go run in another module", exe: goRun, cwd: filepath.Join(checkout, "testdata", "other", "server"), wantErr: "scripts/build-bash.sh"},
		{name: "binary in a checkout without a Bash", exe: filepath.Join(unbuilt, "execgate"), wantErr: "build it with `make bash` in " + unbuilt},
		{name: "an installed binary ignores the working directory", exe: "/usr/local/bin/execgate", cwd: checkout, wantErr: "scripts/build-bash.sh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := findBash(tt.flag, func(k string) string { return tt.env[k] }, tt.exe, tt.cwd)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.path != tt.want || got.source != tt.wantSource {
				t.Fatalf("got %+v, %v; want %s from %s", got, err, tt.want, tt.wantSource)
			}
		})
	}
}

func TestProbeBash(t *testing.T) {
	dir := t.TempDir()
	liar := filepath.Join(dir, "liar")
	// Prints the right first line without running the wrapper at all.
	if err := os.WriteFile(liar, []byte("#!/bin/sh\necho 'execgate-wrapper-probe:/bin/echo|/bin/echo|one|two words|'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		bash       string
		wantSticky bool
		wantErr    error
		wantText   string
	}{
		{name: "patched", bash: testbash.Path(t), wantSticky: true},
		{name: "stock Bash", bash: testbash.SystemBash, wantErr: errUnpatchedBash, wantText: testbash.SystemBash},
		{name: "wrong output", bash: liar, wantErr: errUnpatchedBash, wantText: "scripts/build-bash.sh"},
		{name: "not a program", bash: filepath.Join(dir, "missing"), wantText: "probing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := probeBash(context.Background(), tt.bash)
			switch {
			case tt.wantErr == nil && tt.wantText == "":
				if err != nil || got.Sticky != tt.wantSticky {
					t.Fatalf("got %+v, %v", got, err)
				}
			default:
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || !strings.Contains(err.Error(), tt.wantText) {
					t.Fatalf("err = %v, want %v mentioning %q", err, tt.wantErr, tt.wantText)
				}
			}
		})
	}
}

func TestMergeConfig(t *testing.T) {
	cfgText := `
sandbox_mode = "read-only"
[sandbox_workspace_write]
writable_roots = ["/srv/data"]
network_access = true
[execgate]
bash = "/opt/bash"
rules = ["extra.rules", "/etc/abs.rules"]
timeout_ms = 2500
max_output_bytes = 4096
prompt_timeout_ms = 1000
audit_log = "/var/log/eg.jsonl"
log_level = "debug"
preserve_program_paths = true
max_processes = 300
kernel_gate = false
`
	cfg, _, err := policy.ParseConfig("config.toml", []byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("config fills what flags left", func(t *testing.T) {
		o := DefaultOptions()
		if err := mergeConfig(o, cfg, "/home/u/.codex"); err != nil {
			t.Fatal(err)
		}
		if o.Sandbox != ModeReadOnly || !o.Network || o.Bash != "/opt/bash" || o.Timeout != 2500*time.Millisecond ||
			o.MaxOutput != 4096 || o.PromptTimeout != time.Second || o.AuditLog != "/var/log/eg.jsonl" ||
			o.LogLevel.String() != "DEBUG" || !o.PreserveProgramPaths || o.MaxProcesses != 300 || !o.NoKernelGate ||
			strings.Join(o.WritableRoots, ",") != "/srv/data" ||
			strings.Join(o.Rules, ",") != "/home/u/.codex/extra.rules,/etc/abs.rules" {
			t.Errorf("options %+v", o)
		}
	})
	t.Run("flags override", func(t *testing.T) {
		// What `--sandbox workspace-write --timeout 3s --rules /x.rules --bash /b
		// --max-processes 0` gives.
		o := DefaultOptions()
		o.Sandbox, o.Timeout, o.Rules, o.Bash, o.MaxProcesses = ModeWorkspaceWrite, 3*time.Second, []string{"/x.rules"}, "/b", 0
		// --no-kernel-gate=false given explicitly keeps the gate on.
		for _, f := range []string{"sandbox", "timeout", "rules", "bash", "max-processes", "no-kernel-gate"} {
			o.Explicit[f] = true
		}
		if err := mergeConfig(o, cfg, "/h"); err != nil {
			t.Fatal(err)
		}
		if o.Sandbox != ModeWorkspaceWrite || o.Timeout != 3*time.Second || strings.Join(o.Rules, ",") != "/x.rules" || o.Bash != "/b" || o.MaxOutput != 4096 || o.MaxProcesses != 0 || o.NoKernelGate {
			t.Errorf("options %+v", o)
		}
	})
	bad, _, err := policy.ParseConfig("bad.toml", []byte("[sandbox_workspace_write]\nwritable_roots = [\"rel\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := mergeConfig(DefaultOptions(), bad, "/h"); err == nil || !strings.Contains(err.Error(), "writable_roots[0]") {
		t.Errorf("relative writable root: err = %v", err)
	}
}

func TestApplyConfigReadsHome(t *testing.T) {
	home := t.TempDir()
	t.Setenv("EXECGATE_HOME", home)
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte("[execgate]\ntimeout_ms = 1234\nbogus = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions()
	_, warnings, err := ApplyConfig(o)
	if err != nil || o.Timeout != 1234*time.Millisecond || len(warnings) != 1 || !strings.Contains(warnings[0], "bogus") {
		t.Errorf("timeout %v, warnings %q, err %v", o.Timeout, warnings, err)
	}
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte("sandbox_mode = 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ApplyConfig(DefaultOptions()); err == nil || !strings.Contains(err.Error(), "sandbox_mode") {
		t.Errorf("bad config: err = %v", err)
	}
}

func TestRuntimeDir(t *testing.T) {
	private := t.TempDir()
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	shared := t.TempDir()
	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	flagDir := filepath.Join(testhelp.PrivateDir(t), "flag")
	tests := []struct {
		name     string
		flag     string
		xdg      string
		wantBase string // "" for the cache directory
	}{
		{"private XDG_RUNTIME_DIR", "", private, private},
		{"world-writable XDG_RUNTIME_DIR is skipped", "", shared, ""},
		{"no XDG_RUNTIME_DIR", "", "", ""},
		{"flag --runtime-dir wins, made if missing", flagDir, private, flagDir},
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, lock, err := runtimeDir(tt.flag, func(k string) string {
				if k == "XDG_RUNTIME_DIR" {
					return tt.xdg
				}
				return ""
			})
			if err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(dir)
			defer lock.Close()
			want := tt.wantBase
			if want == "" {
				want = filepath.Join(cache, "execgate")
			}
			fi, err := os.Stat(dir)
			if filepath.Dir(dir) != want || err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("runtime dir %s (%v, %v), want 0700 under %s", dir, fi.Mode(), err, want)
			}
			if underDir(dir, "/tmp") && !underDir(want, "/tmp") {
				t.Errorf("runtime dir %s is under /tmp", dir)
			}
		})
	}
	// An explicit directory others can write is refused, not replaced by
	// another one.
	if _, _, err := runtimeDir(shared, func(string) string { return private }); err == nil || !strings.Contains(err.Error(), "--runtime-dir") {
		t.Errorf("--runtime-dir %s (mode 0777): err = %v, want a refusal naming the flag", shared, err)
	}
}

// Without a usable directory the error says what works under an MCP client
// that passes no environment: make install, or --runtime-dir.
func TestRuntimeDirAdvice(t *testing.T) {
	t.Setenv("HOME", "/proc/version") // no cache directory can be made there
	t.Setenv("XDG_CACHE_HOME", "")
	_, _, err := runtimeDir("", func(string) string { return "" })
	if err == nil {
		t.Fatal("runtimeDir succeeded without a usable directory")
	}
	for _, want := range []string{"make install", "--runtime-dir", "$XDG_RUNTIME_DIR is not set", "/proc/version/.cache/execgate"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// A Bash or wrapper replaced after the startup probe is not used.
func TestEngineNoticesReplacedBash(t *testing.T) {
	dir := testhelp.PrivateDir(t)
	bash := filepath.Join(dir, "bash")
	data, err := os.ReadFile(testbash.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bash, data, 0o755); err != nil {
		t.Fatal(err)
	}
	te := newTestEngine(t, "", func(o *Options) { o.Bash = bash })
	ws := t.TempDir()
	if err := te.trivialCall(ws); err != nil {
		t.Fatalf("before: %v", err)
	}
	if err := os.WriteFile(bash+".new", []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(bash+".new", bash); err != nil {
		t.Fatal(err)
	}
	if err := te.trivialCall(ws); err == nil || !strings.Contains(err.Error(), "changed since the server started") {
		t.Errorf("after replacing the Bash: err = %v", err)
	}
}

// The namespace launcher next to the patched Bash (where
// scripts/build-bash.sh puts it), else the one next to the execgate binary,
// makes the helpers' namespaces, and one replaced after startup is not used.
func TestEngineNoticesReplacedNamespaceLauncher(t *testing.T) {
	launcher := filepath.Join(filepath.Dir(testhelp.Execgate(t)), companion.NSExec)
	if _, err := os.Stat(launcher); err != nil {
		t.Skipf("no namespace launcher built (no C compiler?): %v", err)
	}
	for _, nextToBash := range []bool{true, false} {
		t.Run(fmt.Sprintf("next to the Bash %v", nextToBash), func(t *testing.T) {
			bashDir, selfDir := testhelp.PrivateDir(t), testhelp.PrivateDir(t)
			self, bash := filepath.Join(selfDir, "execgate"), filepath.Join(bashDir, "bash")
			// A launcher next to execgate in both cases: the one next to
			// the Bash must win over it.
			want := filepath.Join(selfDir, companion.NSExec)
			files := [][2]string{{testhelp.Execgate(t), self}, {testbash.Path(t), bash}, {launcher, want}}
			if nextToBash {
				want = filepath.Join(bashDir, companion.NSExec)
				files = append(files, [2]string{launcher, want})
			}
			for _, f := range files {
				src, dst := f[0], f[1]
				data, err := os.ReadFile(src)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(dst, data, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			te := newTestEngineWith(t, self, "", func(o *Options) { o.Bash = bash })
			if te.nsexec != want {
				t.Fatalf("namespace launcher %q, want %q", te.nsexec, want)
			}
			ws := t.TempDir()
			if err := te.trivialCall(ws); err != nil {
				t.Fatalf("before: %v", err)
			}
			if err := os.WriteFile(te.nsexec+".new", []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(te.nsexec+".new", te.nsexec); err != nil {
				t.Fatal(err)
			}
			if err := te.trivialCall(ws); err == nil || !strings.Contains(err.Error(), "namespace launcher") {
				t.Errorf("after replacing the namespace launcher: err = %v", err)
			}
		})
	}
}

// Rules files are re-read when they change; a broken edit keeps the last
// good rules in force.
func TestEngineReloadsRules(t *testing.T) {
	out := testhelp.PrivateDir(t)
	te := newTestEngine(t, `prefix_rule(pattern=["touch"], decision="allow")`+"\n", nil)
	ws := t.TempDir()
	rulesFile := filepath.Join(te.home, "rules", "test.rules")
	steps := []struct {
		name  string
		rules string
		want  escalate.Action
	}{
		{"initial allow", "", escalate.Escalate},
		{"broken edit keeps the allow", "prefix_rule(pattern=[\"touch\"], decision=\"maybe\")\n", escalate.Escalate},
		{"fixed edit forbids", "prefix_rule(pattern=[\"touch\"], decision=\"forbidden\")\n", escalate.Deny},
	}
	for i, st := range steps {
		if st.rules != "" {
			if err := os.WriteFile(rulesFile, []byte(st.rules), 0o600); err != nil {
				t.Fatal(err)
			}
			// Past the change-check interval; a new mtime for the same size.
			time.Sleep(rulesCheckInterval + 50*time.Millisecond)
			now := time.Now().Add(time.Duration(i) * time.Second)
			os.Chtimes(rulesFile, now, now)
		}
		res, err := Execute(context.Background(), te, te.opts, nil, Request{ID: "r", Command: "touch " + filepath.Join(out, "f"), Workdir: ws, Workspace: []string{ws}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Decisions) != 1 || res.Decisions[0].Decision != st.want {
			t.Errorf("%s: decisions %+v, want %s", st.name, res.Decisions, st.want)
		}
	}
}

// A runtime directory is removed once no server holds its lock, whatever
// its name says about a process id; an unlocked one that may be starting
// right now, and anything that is not a runtime directory, stay.
func TestRuntimeDirRemovesStale(t *testing.T) {
	base := t.TempDir()
	dead := filepath.Join(base, "run-1-dead")        // its server is gone: lock file, unlocked
	live := filepath.Join(base, "run-1-live")        // locked, although pid 1 is not a server
	young := filepath.Join(base, "run-2-young")      // no lock file yet
	old := filepath.Join(base, "run-2147483647-old") // no lock file for long, no such pid: abandoned
	oldLive := filepath.Join(base, "run-1-old")      // no lock file for long, but its pid exists (an earlier release's server)
	other := filepath.Join(base, "unrelated")
	for _, d := range []string{dead, live, young, old, oldLive, other} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	deadLock, err := lockRuntimeDir(dead)
	if err != nil {
		t.Fatal(err)
	}
	deadLock.Close()
	liveLock, err := lockRuntimeDir(live)
	if err != nil {
		t.Fatal(err)
	}
	defer liveLock.Close()
	past := time.Now().Add(-2 * staleAfter)
	for _, d := range []string{old, oldLive} {
		if err := os.Chtimes(d, past, past); err != nil {
			t.Fatal(err)
		}
	}
	removeStale(base)
	for _, c := range []struct {
		dir  string
		want bool
	}{{dead, false}, {live, true}, {young, true}, {old, false}, {oldLive, true}, {other, true}} {
		if testhelp.Exists(c.dir) != c.want {
			t.Errorf("%s exists: %v, want %v", filepath.Base(c.dir), testhelp.Exists(c.dir), c.want)
		}
	}
}

// An escalated command does not take its loader, HOME, PATH or any other
// variable outside escalate.ShellDefaults from the sandboxed script: those
// would turn an allowed program into arbitrary code outside the sandbox.
func TestEngineEscalatedEnvironment(t *testing.T) {
	te := newTestEngine(t, `prefix_rule(pattern=["env"], decision="allow")`+"\n", nil)
	ws := t.TempDir()
	script := "export HOME=" + ws + " PATH=" + ws + ":$PATH LD_PRELOAD=" + ws + "/evil.so BASH_ENV=" + ws + "/rc GIT_CONFIG_GLOBAL=" + ws + "/gc KEEP_ME=1 NO_COLOR=1; /usr/bin/env"
	res, err := Execute(context.Background(), te, te.opts, nil, Request{ID: "env", Command: script, Workdir: ws, Workspace: []string{ws}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Decisions) != 1 || res.Decisions[0].Decision != escalate.Escalate {
		t.Fatalf("decisions %+v", res.Decisions)
	}
	env := map[string]string{}
	for _, l := range strings.Split(res.Output, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			env[k] = v
		}
	}
	if env["HOME"] != os.Getenv("HOME") || env["PATH"] != os.Getenv("PATH") {
		t.Errorf("HOME=%q PATH=%q, want the server's %q %q", env["HOME"], env["PATH"], os.Getenv("HOME"), os.Getenv("PATH"))
	}
	for _, k := range []string{"LD_PRELOAD", "BASH_ENV", "GIT_CONFIG_GLOBAL", "CODEX_ESCALATE_SOCKET", "EXEC_WRAPPER", "KEEP_ME"} {
		if v, ok := env[k]; ok {
			t.Errorf("%s=%q reached the escalated command", k, v)
		}
	}
	if env["NO_COLOR"] != "1" {
		t.Errorf("NO_COLOR, a presentation variable, was dropped: %q", res.Output)
	}
}

func TestNoexec(t *testing.T) {
	if noexec(t.TempDir()) {
		t.Error("the test's temporary directory reported noexec")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting a noexec file system needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("execgate-test", dir, "tmpfs", unix.MS_NOEXEC, "size=64k"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	if !noexec(dir) {
		t.Errorf("noexec(%s) = false on a noexec tmpfs", dir)
	}
}

// Each call's Bash holds stdio and its own escalate socket, nothing else of
// the server's, even while other calls run. The patched Bash keeps the
// socket on a high descriptor of its own (10 or above, out of the scripts'
// way) and CODEX_ESCALATE_SOCKET names it.
func TestEngineBashDescriptors(t *testing.T) {
	te := newTestEngine(t, "", nil)
	ws := t.TempDir()
	// No glob over /proc/$$/fd: reading the directory opens one more.
	script := `for n in {0..255}; do [ -e /proc/$$/fd/$n ] && printf '%s ' $n; done; echo; ` +
		`readlink /proc/$$/fd/$CODEX_ESCALATE_SOCKET; echo $CODEX_ESCALATE_SOCKET; sleep 0.2`
	results := make(chan string, 4)
	for range 4 {
		go func() {
			res, err := Execute(context.Background(), te, te.opts, nil, Request{ID: "fd", Command: script, Workdir: ws, Workspace: []string{ws}})
			if err != nil {
				results <- err.Error()
				return
			}
			results <- res.Output
		}()
	}
	sockets := map[string]bool{}
	for range 4 {
		out := <-results
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[1], "socket:[") {
			t.Errorf("Bash's descriptors: %q, want 0 1 2 and the socket CODEX_ESCALATE_SOCKET names", out)
			continue
		}
		if fd, err := strconv.Atoi(lines[2]); err != nil || fd < 10 || lines[0] != "0 1 2 "+lines[2]+" " {
			t.Errorf("Bash's descriptors: %q, want 0 1 2 and the socket on a descriptor of 10 or above", out)
			continue
		}
		sockets[lines[1]] = true
	}
	if len(sockets) != 4 {
		t.Errorf("calls shared escalate sockets: %v", sockets)
	}
}

// A wrapper the sandbox can write is logged once, with advice a client
// that passes the server no environment can follow: --runtime-dir in its
// arguments, or make install.
func TestEngineWarnsOfWritableWrapper(t *testing.T) {
	ws := t.TempDir()
	logged := &testhelp.LogBuffer{}
	log := slog.New(slog.NewTextHandler(logged, nil))
	te := newTestEngineLog(t, testhelp.Execgate(t), "", func(o *Options) { o.RuntimeDir = filepath.Join(ws, "rt") }, log)
	if !underDir(te.wrapper, ws) {
		t.Fatalf("wrapper %s, want it under --runtime-dir %s", te.wrapper, ws)
	}
	for range 2 {
		if _, err := Execute(context.Background(), te, te.opts, NewDecisionLog(log, nil), Request{ID: "w", Command: "true", Workdir: ws, Workspace: []string{ws}}); err != nil {
			t.Fatal(err)
		}
	}
	out := logged.String()
	if n := strings.Count(out, "the sandboxed script can write this program"); n != 1 {
		t.Errorf("%d warnings about the writable wrapper, want 1:\n%s", n, out)
	}
	for _, want := range []string{"--runtime-dir", "make install"} {
		if !strings.Contains(out, want) {
			t.Errorf("the warning does not mention %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "set XDG_RUNTIME_DIR") {
		t.Errorf("the warning still says to set XDG_RUNTIME_DIR:\n%s", out)
	}
}
