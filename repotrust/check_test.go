package repotrust

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/execgate/execgate/sandbox"
)

// layout is a filesystem for trust checks: base holds a home (HOME, no
// writable root), a workspace ws whose parent is not writable, a tmp root
// that holds a second workspace ws2, and outside (no root).
type layout struct {
	base, home, ws, tmp, ws2, outside string
}

func newLayout(t *testing.T) layout {
	t.Helper()
	requireGit(t)
	base := tempDir(t)
	l := layout{base: base, home: filepath.Join(base, "home"), ws: filepath.Join(base, "ws"),
		tmp: filepath.Join(base, "tmp"), outside: filepath.Join(base, "outside")}
	l.ws2 = filepath.Join(l.tmp, "ws2")
	mkdirs(t, l.home, l.ws, l.ws2, l.outside)
	for _, dir := range []string{l.ws, l.ws2, l.outside} {
		runGit(t, l.home, dir, "init", "-q")
		runGit(t, l.home, dir, "commit", "-q", "--allow-empty", "-m", "x")
	}
	return l
}

// protection is workspace-write with roots, each protecting its .git,
// .codex and .agents, as the sandbox computes it.
func protection(roots ...string) sandbox.Protection {
	p := sandbox.Protection{Mode: sandbox.WorkspaceWrite, Enforced: true}
	for _, r := range roots {
		p.Roots = append(p.Roots, sandbox.Root{Path: r, Protected: []string{
			filepath.Join(r, ".git"), filepath.Join(r, ".codex"), filepath.Join(r, ".agents")}})
	}
	return p
}

func (l layout) registry(t *testing.T, table Programs, ps ...sandbox.Protection) *Registry {
	t.Helper()
	r := NewRegistry(table, l.env())
	for _, p := range ps {
		r.Observe(p)
	}
	return r
}

func (l layout) env(extra ...string) []string {
	return append([]string{"HOME=" + l.home, "PATH=/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM=1"}, extra...)
}

func gitExec(dir string, env []string, args ...string) Exec {
	return Exec{File: "/usr/bin/git", Argv: append([]string{"git"}, args...), Workdir: dir, Env: env}
}

// expect checks a verdict: trusted, or untrusted with a reason containing
// every one of why.
func expect(t *testing.T, v Verdict, trusted bool, why ...string) {
	t.Helper()
	if !v.Listed {
		t.Fatalf("program not listed: %+v", v)
	}
	if v.Trusted != trusted {
		t.Fatalf("trusted = %v, want %v: %s", v.Trusted, trusted, v.Reason)
	}
	for _, w := range why {
		if !strings.Contains(v.Reason, w) {
			t.Errorf("reason %q lacks %q", v.Reason, w)
		}
	}
}

func TestCheckWorkspaceRepository(t *testing.T) {
	l := newLayout(t)
	// ws2 is a second workspace under tmp, as a workspace under /tmp is.
	r := l.registry(t, DefaultPrograms(), protection(l.ws, l.ws2, l.tmp))
	env := l.env()

	t.Run("top of the workspace", func(t *testing.T) {
		v := r.Check(gitExec(l.ws, env, "status"))
		expect(t, v, true, "kept read-only")
		if v.Repo != filepath.Join(l.ws, ".git") {
			t.Errorf("repo %q", v.Repo)
		}
	})
	t.Run("identity variables from the shell", func(t *testing.T) {
		expect(t, r.Check(gitExec(l.ws, l.env("GIT_AUTHOR_NAME=agent", "LANG=C"), "status")), true)
	})
	t.Run("subdirectory: git is given the repository", func(t *testing.T) {
		// A .git planted on the way up while git starts would be used, if
		// git searched.
		sub := filepath.Join(l.ws, "sub")
		mkdirs(t, sub)
		v := r.Check(gitExec(sub, env, "status"))
		expect(t, v, true, "GIT_DIR")
		if want := (Pin{GitDir: filepath.Join(l.ws, ".git"), WorkTree: l.ws}); v.Pin == nil || *v.Pin != want {
			t.Errorf("pin %+v, want %+v", v.Pin, want)
		}
		if v := r.Check(gitExec(l.ws, env, "status")); v.Pin != nil {
			t.Errorf("pin %+v at the top, where git's search is safe", v.Pin)
		}
	})
	t.Run("nested repository", func(t *testing.T) {
		nested := filepath.Join(l.ws, "nested")
		mkdirs(t, nested)
		runGit(t, l.home, nested, "init", "-q")
		expect(t, r.Check(gitExec(nested, env, "status")), false, nested)
	})
	t.Run("-C into the workspace", func(t *testing.T) {
		expect(t, r.Check(gitExec(l.home, env, "-C", l.ws, "status")), true)
		expect(t, r.Check(gitExec(l.home, env, "-C", l.ws, "-C", "nested", "status")), false, "nested")
	})
	t.Run("--git-dir", func(t *testing.T) {
		expect(t, r.Check(gitExec(l.home, env, "--git-dir="+filepath.Join(l.ws, ".git"), "log")), true)
		expect(t, r.Check(gitExec(l.ws, env, "--git-dir", "nested/.git", "log")), false, "nested")
	})
	t.Run("configuration on the command line", func(t *testing.T) {
		expect(t, r.Check(gitExec(l.ws, env, "-c", "core.fsmonitor=x", "status")), false, "-c")
		expect(t, r.Check(gitExec(l.ws, env, "--exec-path=/tmp", "status")), false, "--exec-path")
		expect(t, r.Check(gitExec(l.ws, env, "--frobnicate", "status")), false, "not understood")
	})
	t.Run("environment from the shell", func(t *testing.T) {
		expect(t, r.Check(gitExec(l.ws, l.env("GIT_DIR="+filepath.Join(l.ws2, ".git")), "status")), false, "GIT_DIR comes from the sandboxed shell")
		expect(t, r.Check(gitExec(l.ws, append(l.env(), "HOME="+l.ws), "status")), false, "HOME comes from the sandboxed shell")
	})
	t.Run("workspace inside another writable root", func(t *testing.T) {
		expect(t, r.Check(gitExec(l.ws2, env, "status")), false, "can rename or replace "+l.ws2)
	})
	t.Run("repository argument", func(t *testing.T) {
		expect(t, r.Check(gitExec(l.home, env, "receive-pack", l.ws)), true)
		expect(t, r.Check(gitExec(l.home, env, "receive-pack", l.ws2)), false, l.ws2)
		dashed := Exec{File: "/usr/lib/git-core/git-receive-pack", Argv: []string{"git-receive-pack", l.ws2}, Workdir: l.home, Env: env}
		expect(t, r.Check(dashed), false, l.ws2)
		expect(t, r.Check(gitExec(l.home, env, "shell", "-c", "x")), false, "git shell")
	})
	t.Run("git under another argv[0]", func(t *testing.T) {
		ex := gitExec(l.home, env, l.ws2)
		ex.Argv[0] = "git-upload-pack"
		expect(t, r.Check(ex), false, l.ws2)
	})
	t.Run("no repository where nothing is writable", func(t *testing.T) {
		// The server's own ceiling stops the walk short of /tmp.
		env := l.env("GIT_CEILING_DIRECTORIES=" + l.base)
		r := NewRegistry(DefaultPrograms(), env)
		r.Observe(protection(l.ws, l.tmp))
		v := r.Check(gitExec(l.home, env, "version"))
		expect(t, v, true)
		if v.Repo != "" {
			t.Errorf("repo %q", v.Repo)
		}
	})
	t.Run("not listed", func(t *testing.T) {
		if v := r.Check(Exec{File: "/usr/bin/ls", Argv: []string{"ls"}, Workdir: l.ws}); v.Listed {
			t.Errorf("ls listed: %+v", v)
		}
	})
}

// A workspace replaced after the server started (renamed away, a new one
// with a .git created) is not the one that was protected.
func TestCheckReplacedGitDirectory(t *testing.T) {
	l := newLayout(t)
	r := l.registry(t, DefaultPrograms(), protection(l.ws))
	expect(t, r.Check(gitExec(l.ws, l.env(), "status")), true)
	if err := os.Rename(l.ws, l.ws+".old"); err != nil {
		t.Fatal(err)
	}
	mkdirs(t, l.ws)
	runGit(t, l.home, l.ws, "init", "-q")
	// Calls go on protecting the new .git, but it was created meanwhile.
	r.Observe(protection(l.ws))
	expect(t, r.Check(gitExec(l.ws, l.env(), "status")), false, "is not a file the sandbox has kept read-only since execgate started")
}

// A call whose sandbox could write a repository spoils it for good, even if
// later calls protect it.
func TestCheckHistory(t *testing.T) {
	l := newLayout(t)
	t.Run("an earlier call could write it", func(t *testing.T) {
		r := l.registry(t, DefaultPrograms(), protection(l.base), protection(l.ws))
		expect(t, r.Check(gitExec(l.ws, l.env(), "status")), false, "writable root "+l.base)
	})
	t.Run("danger-full-access", func(t *testing.T) {
		r := l.registry(t, DefaultPrograms(), protection(l.ws), sandbox.Protection{Mode: sandbox.DangerFullAccess})
		expect(t, r.Check(gitExec(l.ws, l.env(), "status")), false, "danger-full-access")
	})
	t.Run("no namespaces", func(t *testing.T) {
		p := protection(l.ws)
		p.Enforced = false
		r := l.registry(t, DefaultPrograms(), p)
		expect(t, r.Check(gitExec(l.outside, l.env(), "status")), false, "no user namespaces")
	})
	t.Run("read-only calls change nothing", func(t *testing.T) {
		r := l.registry(t, DefaultPrograms(), protection(l.ws), sandbox.Protection{Mode: sandbox.ReadOnly, Enforced: true})
		expect(t, r.Check(gitExec(l.ws, l.env(), "status")), true)
	})
	t.Run("many distinct calls are merged, never loosened", func(t *testing.T) {
		ps := []sandbox.Protection{protection(l.ws)}
		for i := range maxRecords + 5 {
			d := filepath.Join(l.base, "extra", string(rune('a'+i)))
			mkdirs(t, d)
			ps = append(ps, protection(d, l.ws))
		}
		ps = append(ps, protection(l.outside))
		r := l.registry(t, DefaultPrograms(), ps...)
		if n := len(r.history.Load().records); n > maxRecords {
			t.Errorf("%d records kept", n)
		}
		expect(t, r.Check(gitExec(l.ws, l.env(), "status")), true)
		expect(t, r.Check(gitExec(l.outside, l.env(), "status")), true)
		r.Observe(protection(l.base))
		expect(t, r.Check(gitExec(l.ws, l.env(), "status")), false)
	})
}

// A path through a symlink the sandbox can replace leads where the
// sandbox wants by the time git follows it, even if it leads to a trusted
// repository now.
func TestCheckSymlinkOnTheWay(t *testing.T) {
	l := newLayout(t)
	link := filepath.Join(l.ws, "link")
	if err := os.Symlink(l.outside, link); err != nil {
		t.Fatal(err)
	}
	r := l.registry(t, DefaultPrograms(), protection(l.ws))
	expect(t, r.Check(gitExec(l.outside, l.env(), "status")), true)
	// Where git starts no longer matters once it is given the repository
	// (the session refuses such a workdir anyway; -C is git's).
	for _, ex := range []Exec{gitExec(link, l.env(), "status"), gitExec(l.home, l.env(), "-C", link, "status")} {
		if v := r.Check(ex); !v.Trusted || v.Pin == nil || v.Pin.GitDir != filepath.Join(l.outside, ".git") {
			t.Errorf("%v: %+v, want trusted with %s pinned", ex.Argv, v, filepath.Join(l.outside, ".git"))
		}
	}
	wt := filepath.Join(l.base, "wt")
	writeFile(t, filepath.Join(wt, ".git"), "gitdir: "+filepath.Join(link, ".git")+"\n")
	expect(t, r.Check(gitExec(wt, l.env(), "status")), false, "can rename or replace "+link)
	// The same symlink where no sandbox can write it is fine.
	safe := filepath.Join(l.base, "safe-link")
	if err := os.Symlink(l.outside, safe); err != nil {
		t.Fatal(err)
	}
	expect(t, r.Check(gitExec(safe, l.env(), "status")), true)
}

func TestCheckGitfile(t *testing.T) {
	l := newLayout(t)
	wt := filepath.Join(l.base, "wt")
	writeFile(t, filepath.Join(wt, ".git"), "gitdir: "+filepath.Join(l.ws2, ".git")+"\n")
	out := filepath.Join(l.base, "wt-out")
	writeFile(t, filepath.Join(out, ".git"), "gitdir: "+filepath.Join(l.outside, ".git")+"\n")
	r := l.registry(t, DefaultPrograms(), protection(l.ws, l.tmp))
	expect(t, r.Check(gitExec(wt, l.env(), "status")), false, "the git directory "+filepath.Join(l.ws2, ".git"))
	expect(t, r.Check(gitExec(out, l.env(), "status")), true)
	// A linked work tree: its git directory and the common one.
	linked := filepath.Join(l.base, "linked")
	runGit(t, l.home, l.ws, "worktree", "add", "-q", linked)
	r = l.registry(t, DefaultPrograms(), protection(l.ws, l.tmp))
	expect(t, r.Check(gitExec(linked, l.env(), "status")), true)
	linked2 := filepath.Join(l.base, "linked2")
	runGit(t, l.home, l.ws2, "worktree", "add", "-q", linked2)
	expect(t, r.Check(gitExec(linked2, l.env(), "status")), false, "the git directory "+filepath.Join(l.ws2, ".git", "worktrees", "linked2"))
}

func TestCheckConfiguration(t *testing.T) {
	setup := func(t *testing.T, config ...string) (layout, *Registry) {
		l := newLayout(t)
		for i := 0; i+1 < len(config); i += 2 {
			runGit(t, l.home, l.ws, "config", config[i], config[i+1])
		}
		return l, l.registry(t, DefaultPrograms(), protection(l.ws))
	}
	t.Run("hooksPath in the work tree", func(t *testing.T) {
		l, r := setup(t, "core.hooksPath", ".husky")
		expect(t, r.Check(gitExec(l.ws, l.env(), "commit")), false, "hooks directory "+filepath.Join(l.ws, ".husky"))
	})
	t.Run("hooksPath outside", func(t *testing.T) {
		l := newLayout(t)
		runGit(t, l.home, l.ws, "config", "core.hooksPath", l.outside)
		r := l.registry(t, DefaultPrograms(), protection(l.ws))
		expect(t, r.Check(gitExec(l.ws, l.env(), "commit")), true)
	})
	t.Run("include from the work tree", func(t *testing.T) {
		l, r := setup(t, "include.path", "../shared.gitconfig")
		expect(t, r.Check(gitExec(l.ws, l.env(), "status")), false, "git config file "+filepath.Join(l.ws, "shared.gitconfig"))
	})
	t.Run("includeIf from the work tree, whatever the condition", func(t *testing.T) {
		l, r := setup(t, "includeIf.onbranch:no-such-branch.path", "../cond.gitconfig")
		expect(t, r.Check(gitExec(l.ws, l.env(), "status")), false, "git config file "+filepath.Join(l.ws, "cond.gitconfig"))
	})
	t.Run("fsmonitor program in the work tree", func(t *testing.T) {
		l, r := setup(t, "core.fsmonitor", "./watch.sh")
		expect(t, r.Check(gitExec(l.ws, l.env(), "status")), false, "core.fsmonitor program "+filepath.Join(l.ws, "watch.sh"))
	})
	t.Run("fsmonitor in the git directory, or git's daemon", func(t *testing.T) {
		l, r := setup(t, "core.fsmonitor", ".git/hooks/fsmonitor-watchman")
		expect(t, r.Check(gitExec(l.ws, l.env(), "status")), true)
		runGit(t, l.home, l.ws, "config", "core.fsmonitor", "true")
		expect(t, r.Check(gitExec(l.ws, l.env(), "status")), true)
	})
	t.Run("hook symlinked into the work tree", func(t *testing.T) {
		l, r := setup(t)
		writeFile(t, filepath.Join(l.ws, "scripts", "pre-commit"), "#!/bin/sh\n")
		if err := os.Symlink("../../scripts/pre-commit", filepath.Join(l.ws, ".git", "hooks", "pre-commit")); err != nil {
			t.Fatal(err)
		}
		expect(t, r.Check(gitExec(l.ws, l.env(), "commit")), false, "symlink to "+filepath.Join(l.ws, "scripts", "pre-commit"))
	})
	t.Run("global config in a writable root", func(t *testing.T) {
		l := newLayout(t)
		r := l.registry(t, DefaultPrograms(), protection(l.ws, l.home))
		expect(t, r.Check(gitExec(l.ws, l.env(), "status")), false, "git config file "+filepath.Join(l.home, ".config", "git", "config"))
	})
	t.Run("global config including a writable file", func(t *testing.T) {
		l := newLayout(t)
		writeFile(t, filepath.Join(l.home, ".gitconfig"), "[include]\n\tpath = "+filepath.Join(l.ws, "inc")+"\n")
		r := l.registry(t, DefaultPrograms(), protection(l.ws))
		expect(t, r.Check(gitExec(l.ws, l.env(), "status")), false, "git config file "+filepath.Join(l.ws, "inc"))
	})
	t.Run("submodules in a writable work tree", func(t *testing.T) {
		l, r := setup(t)
		oid := runGit(t, l.home, l.ws, "rev-parse", "HEAD")
		runGit(t, l.home, l.ws, "update-index", "--add", "--cacheinfo", "160000,"+oid+",sub")
		expect(t, r.Check(gitExec(l.ws, l.env(), "status")), false, "has submodules")
	})
}

func TestCheckWorkdirPrograms(t *testing.T) {
	l := newLayout(t)
	table, err := DefaultPrograms().With("make", Workdir)
	if err != nil {
		t.Fatal(err)
	}
	r := l.registry(t, table, protection(l.ws))
	mk := func(dir string) Exec {
		return Exec{File: "/usr/bin/make", Argv: []string{"make"}, Workdir: dir, Env: l.env()}
	}
	expect(t, r.Check(mk(l.ws)), false, "its working directory "+l.ws)
	expect(t, r.Check(mk(l.outside)), true)
	// A writable root inside the directory counts.
	r.Observe(protection(filepath.Join(l.outside, ".git")))
	expect(t, r.Check(mk(l.outside)), false, "contains the writable root")
}

func TestPrograms(t *testing.T) {
	p := DefaultPrograms()
	for _, n := range []string{"/usr/bin/git", "git", "/usr/lib/git-core/git-receive-pack"} {
		if k, _, ok := p.Lookup(n); !ok || k != Git {
			t.Errorf("%s: %v %v", n, k, ok)
		}
	}
	if _, _, ok := p.Lookup("/usr/bin/make", "gitk"); ok {
		t.Error("make or gitk listed")
	}
	p, err := p.With("npm*", Workdir)
	if err != nil {
		t.Fatal(err)
	}
	if k, name, ok := p.Lookup("/usr/bin/npx", "/opt/npm-cli"); !ok || k != Workdir || name != "npm-cli" {
		t.Errorf("npm*: %v %q %v", k, name, ok)
	}
	if _, err := p.With("git", Workdir); err == nil || !strings.Contains(err.Error(), "built in") {
		t.Errorf("overriding git: %v", err)
	}
	for _, bad := range []string{"", "a/b", "*", "x*y"} {
		if _, err := p.With(bad, Workdir); err == nil {
			t.Errorf("With(%q) accepted", bad)
		}
	}
	if _, err := ParseKind("shell"); err == nil {
		t.Error("ParseKind(shell) accepted")
	}
	if got := DefaultPrograms().String(); got != "git=git git-*=git" {
		t.Errorf("String() = %q", got)
	}
}

// A push to a repository on this machine runs that repository's hooks
// (receive-pack) here: the repository pushed to must be trusted too.
func TestCheckPushToLocalRepository(t *testing.T) {
	l := newLayout(t)
	r := l.registry(t, DefaultPrograms(), protection(l.ws, l.tmp))
	env := l.env()
	expect(t, r.Check(gitExec(l.ws, env, "push", l.ws2, "main")), false, l.ws2)
	expect(t, r.Check(gitExec(l.ws, env, "push", "file://"+l.ws2)), false, l.ws2)
	expect(t, r.Check(gitExec(l.ws, env, "push", l.outside, "main")), true)
	expect(t, r.Check(gitExec(l.ws, env, "push", "https://example.com/x.git", "main")), true)
	expect(t, r.Check(gitExec(l.ws, env, "push", "host:repo.git", "main")), true)
	expect(t, r.Check(gitExec(l.ws, env, "push", "--receive-pack=/bin/sh", "origin")), false, "--receive-pack")
	expect(t, r.Check(gitExec(l.ws, env, "fetch", "--upload-pack", "/bin/sh", "origin")), false, "--upload-pack")
	expect(t, r.Check(gitExec(l.ws, env, "clone", "-u", "/bin/sh", l.outside, "x")), false, "-u")
	expect(t, r.Check(gitExec(l.ws, env, "status", "--remote=/x", "--exec=sh")), false, "--exec")
	expect(t, r.Check(gitExec(l.ws, env, "push", "-u", "https://example.com/x", "main")), true)
	expect(t, r.Check(gitExec(l.ws, env, "log", "--", "--exec=file")), true)
	// The configured remotes, whichever is pushed to.
	runGit(t, l.home, l.ws, "remote", "add", "safe", l.outside)
	expect(t, r.Check(gitExec(l.ws, env, "push", "safe", "main")), true)
	runGit(t, l.home, l.ws, "remote", "add", "origin", l.ws2)
	expect(t, r.Check(gitExec(l.ws, env, "push")), false, l.ws2)
	// Other commands do not run the remote's hooks.
	expect(t, r.Check(gitExec(l.ws, env, "fetch", "origin")), true)
}

func TestLocalURL(t *testing.T) {
	for u, want := range map[string]string{
		"/srv/r.git": "/srv/r.git", "../r": "../r", "file:///srv/r": "/srv/r", "r": "r",
		"https://h/r": "", "ssh://h/r": "", "h:r.git": "", "h:/srv/r": "", "file://h/r": "", "./a:b": "./a:b",
	} {
		got, ok := localURL(u)
		if ok != (want != "") || got != want {
			t.Errorf("localURL(%q) = %q, %v; want %q", u, got, ok, want)
		}
	}
}
