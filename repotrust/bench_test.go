package repotrust

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkCheck is the trust check's cost per escalation of a listed
// program: for git, in the workspace's repository (trusted: every check
// runs; from the top and from a subdirectory, where it is pinned), in a
// nested repository (untrusted early), and for a program not in the table.
func BenchmarkCheck(b *testing.B) {
	requireGit(b)
	base := tempDir(b)
	home := filepath.Join(base, "home")
	ws := filepath.Join(base, "ws")
	nested := filepath.Join(ws, "nested")
	deep := filepath.Join(ws, "src", "deep")
	mkdirs(b, home, nested, deep)
	runGit(b, home, ws, "init", "-q")
	runGit(b, home, nested, "init", "-q")
	// A user's global config, as most have.
	writeFile(b, filepath.Join(home, ".gitconfig"), "[user]\n\tname = u\n\temail = u@example.com\n[core]\n\tpager = less\n[alias]\n\tst = status\n")
	for i := range 20 {
		writeFile(b, filepath.Join(ws, "f", string(rune('a'+i))), "x")
	}
	runGit(b, home, ws, "add", "f")
	runGit(b, home, ws, "commit", "-q", "-m", "x")
	env := []string{"HOME=" + home, "PATH=/usr/bin:/bin", "LANG=C.UTF-8"}
	r := NewRegistry(DefaultPrograms(), env)
	r.Observe(protection(ws, filepath.Join(base, "tmp")))
	if v := r.Check(gitExec(ws, env, "status")); !v.Trusted {
		b.Fatalf("workspace repository not trusted: %s", v.Reason)
	}
	if _, err := os.Stat("/usr/bin/git"); err != nil {
		b.Skip("no /usr/bin/git")
	}
	// One lstat(2), to read the figures against on a loaded machine.
	b.Run("lstat-baseline", func(b *testing.B) {
		for b.Loop() {
			lstatStamp(filepath.Join(ws, ".git"))
		}
	})
	for _, c := range []struct {
		name string
		ex   Exec
	}{
		{"git-trusted", gitExec(ws, env, "status")},
		// From a subdirectory: two more directories searched, then pinned.
		{"git-subdir-pinned", gitExec(deep, env, "status")},
		{"git-nested-untrusted", gitExec(nested, env, "status")},
		{"not-listed", Exec{File: "/usr/bin/ls", Argv: []string{"ls"}, Workdir: ws, Env: env}},
		// As the decider asks: the policy resolved the program already.
		{"not-listed-resolved", Exec{File: "/usr/bin/ls", Resolved: "/usr/bin/ls", Argv: []string{"ls"}, Workdir: ws, Env: env}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				r.Check(c.ex)
			}
		})
	}
}
