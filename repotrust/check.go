package repotrust

import (
	"fmt"
	"slices"
	"strings"
)

// Exec is a program start about to be escalated.
type Exec struct {
	File string // the program's path, absolute
	// Resolved is File with symlinks resolved, when the caller knows it
	// ("": Check resolves it).
	Resolved string
	Argv     []string // argv[0] included
	Workdir  string   // absolute
	// Env is the environment the program will get (NAME=VALUE), after
	// the server's filtering.
	Env []string
}

// Verdict is what Check found.
type Verdict struct {
	// Listed: the program is in the table; nothing else is set otherwise.
	Listed bool
	Kind   Kind
	// Trusted: it may run outside the sandbox.
	Trusted bool
	// Repo is the git directory, or for a workdir program its working
	// directory, it would take code from ("" when none was found).
	Repo string
	// Reason says why it is not trusted (a sentence naming the path at
	// fault), or for a trusted one what was checked.
	Reason string
	// Pin, when set, is part of the trust: the program may run outside
	// the sandbox only with Pin.Env() set over its environment, so that
	// it uses the repository that was checked and searches for no other.
	Pin *Pin
}

// Check decides whether ex, if its program is in the table, may run
// outside the sandbox: see the package documentation for what that takes.
// It reads the filesystem as it is now; the rules it checks make sure no
// sandbox can change what it read before the program has read it too.
func (r *Registry) Check(ex Exec) Verdict {
	c := &check{view: r.view(), env: envMap(ex.Env)}
	// The program's path and the name it runs under, and the file it is:
	// a symlink named otherwise may lead to git.
	names := []string{ex.File}
	if len(ex.Argv) > 0 {
		names = append(names, ex.Argv[0])
	}
	kind, _, ok := r.programs.Lookup(names...)
	real, err := ex.Resolved, error(nil)
	if real == "" {
		real, err = c.view.realpath(ex.File)
	}
	if err == nil && real != ex.File {
		names = append(names, real)
		if !ok {
			kind, _, ok = r.programs.Lookup(real)
		}
	}
	if !ok {
		return Verdict{}
	}
	v := Verdict{Listed: true, Kind: kind}
	switch {
	case c.view.h.unconfined:
		v.Reason = "a call ran without a sandbox (danger-full-access) since execgate started, so any repository may hold code it wrote"
	case c.view.h.unenforced:
		v.Reason = "the sandbox cannot keep .git read-only on this machine (no user namespaces), so no repository is trusted"
	default:
		v.Reason = c.environment()
	}
	if v.Reason != "" {
		return v
	}
	switch kind {
	case Git:
		v.Repo, v.Pin, v.Reason = c.git(names, ex)
	case Workdir:
		v.Repo, v.Reason = c.workdir(ex.Workdir)
	}
	if v.Reason == "" {
		v.Trusted = true
		v.Reason = "no sandbox could write the code it runs since execgate started"
		if v.Repo != "" {
			v.Reason = "repository " + v.Repo + " kept read-only since execgate started"
		}
		if v.Pin != nil {
			v.Reason += "; git is given it (GIT_DIR, GIT_WORK_TREE=" + v.Pin.WorkTree + ") rather than searching for it from a directory the sandbox can write"
		}
	}
	return v
}

// check is one Check in progress.
type check struct {
	view *view
	env  map[string]string // the program's environment
	genv gitEnv            // what of env changes git's discovery
}

// configVars are the variables outside GIT_* that change where git finds
// its configuration.
var configVars = []string{"HOME", "XDG_CONFIG_HOME"}

// harmlessGitVars are GIT_* variables that select no code nor files.
var harmlessGitVars = []string{
	"GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_AUTHOR_DATE",
	"GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_COMMITTER_DATE",
	"GIT_TERMINAL_PROMPT", "GIT_PAGER_IN_USE", "GIT_FLUSH", "GIT_PROGRESS_DELAY",
}

// environment says which variable of the program's environment, if any,
// the sandboxed shell chose rather than the user: one that can point git at
// another repository, configuration or program.
func (c *check) environment() string {
	var names []string
	for k := range c.env {
		if strings.HasPrefix(k, "GIT_") && !slices.Contains(harmlessGitVars, k) || slices.Contains(configVars, k) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		if own, ok := c.view.env[k]; !ok || own != c.env[k] {
			return fmt.Sprintf("%s comes from the sandboxed shell (execgate's own environment has %s), and it can point git at another repository, configuration or program", k, describeVar(k, own, ok))
		}
	}
	return ""
}

func describeVar(k, v string, ok bool) string {
	if !ok {
		return "no " + k
	}
	return fmt.Sprintf("%s=%q", k, v)
}

// workdir checks a program that runs code from its working directory.
func (c *check) workdir(dir string) (string, string) {
	real, err := c.view.realpath(dir)
	if err != nil {
		return dir, fmt.Sprintf("working directory %s: %v", dir, err)
	}
	return real, c.view.readOnly("its working directory", dir, true)
}

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
