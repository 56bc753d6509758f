package repotrust

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// git checks a git program: names are its path, resolved path and argv[0].
// It returns the git directory it would use, the Pin git must be given
// (nil if none is needed), and why it is not trusted ("").
func (c *check) git(names []string, ex Exec) (string, *Pin, string) {
	genv, err := newGitEnv(c.env)
	if err != nil {
		return "", nil, err.Error()
	}
	c.genv = genv
	repo := ""
	results := []gitResult{}
	for _, cmd := range c.gitCommands(names, ex) {
		r := c.gitCommand(cmd, genv)
		if r.why != "" {
			return r.gitDir, nil, r.why
		}
		if repo == "" {
			repo = r.gitDir
		}
		results = append(results, r)
	}
	// One environment serves whichever reading git makes of its command
	// line: a pin is given only if every reading needs that very one.
	pin := results[0].pin
	for _, r := range results[1:] {
		if (r.pin == nil) != (pin == nil) || pin != nil && *r.pin != *pin {
			return repo, nil, "git's command line reads two ways that need different repositories pinned"
		}
	}
	return repo, pin, ""
}

// gitResult is the check of one reading of a git command line.
type gitResult struct {
	gitDir string // the git directory it uses ("" if none)
	pin    *Pin   // what git must be given to use only that (nil: nothing)
	why    string // why it is not trusted ("" if it is)
}

// gitCommands are the ways git may read its command line: git dispatches
// on argv[0] ("git-NAME" acts as `git NAME`), and the program's own name
// counts too, since the server may run it under that name.
func (c *check) gitCommands(names []string, ex Exec) []gitCommand {
	var args []string
	if len(ex.Argv) > 1 {
		args = ex.Argv[1:]
	}
	var out []gitCommand
	seen := map[string]bool{}
	for i := len(names) - 1; i >= 0; i-- { // argv[0] first
		dashed, _ := strings.CutPrefix(filepath.Base(names[i]), "git-")
		if dashed == filepath.Base(names[i]) {
			dashed = "" // not git-NAME
		}
		if seen[dashed] {
			continue
		}
		seen[dashed] = true
		out = append(out, parseGit(dashed, args, ex.Workdir))
	}
	return out
}

// gitCommand checks one reading of a git command line.
func (c *check) gitCommand(cmd gitCommand, genv gitEnv) gitResult {
	if cmd.refuse != "" {
		return gitResult{why: cmd.refuse}
	}
	// git starts in cmd.dir: the path the session pins, then -C.
	start, moved, movedRoot, err := c.view.resolve(cmd.dir, true)
	if err == nil {
		_, err = c.view.lstat(start)
	}
	if err != nil {
		return gitResult{why: fmt.Sprintf("working directory %s: %v", cmd.dir, err)}
	}
	gitDir := cmd.gitDir
	if gitDir == "" && c.env["GIT_DIR"] != "" {
		// The user's own GIT_DIR (a sandbox's was refused already).
		gitDir = under(start, c.env["GIT_DIR"])
	}
	var repos []*repository
	var workTrees []string // where git takes the work tree to be, for repos[0]
	var found *repository  // what discovery found, if git searches
	misled := ""           // how a sandbox could mislead git's search
	switch {
	case gitDir != "":
		repo, why := c.named("the git directory", gitDir, []string{""}, genv)
		if why != "" {
			return gitResult{gitDir: gitDir, why: why}
		}
		repos = append(repos, repo)
		workTrees = []string{start} // git's default with GIT_DIR and no work tree
	default:
		d, err := c.view.discover(start, genv)
		if err != nil {
			return gitResult{why: err.Error()}
		}
		if d.repo != nil {
			// A repository the sandbox wrote says so first.
			if why := c.view.readOnly("the git directory", d.repo.gitDir, true); why != "" {
				return gitResult{gitDir: d.repo.gitDir, why: why}
			}
		}
		misled = c.searchRisk(d, cmd.dir, moved, movedRoot)
		found = d.repo
		repos = append(repos, d.repo)
		if d.repo != nil && d.repo.workTree != "" {
			workTrees = []string{d.repo.workTree}
		}
	}
	if cmd.workTree != "" {
		workTrees = append(workTrees, cmd.workTree)
	}
	for _, arg := range cmd.repoArgs {
		repo, why := c.named("the repository argument", arg, enterRepoSuffixes, genv)
		if why != "" {
			return gitResult{gitDir: arg, why: why}
		}
		repos = append(repos, repo)
	}
	if why := c.globalConfig(); why != "" {
		return gitResult{why: why}
	}
	first := ""
	var facts repoFacts // of repos[0]
	for i, repo := range repos {
		if repo == nil {
			continue
		}
		if first == "" {
			first = repo.gitDir
		}
		var wt []string
		if i == 0 {
			wt = workTrees
		}
		f, why := c.repository(repo, wt, cmd.pushes)
		if why != "" {
			return gitResult{gitDir: repo.gitDir, why: why}
		}
		if i == 0 {
			facts = f
		}
	}
	if misled == "" {
		return gitResult{gitDir: first}
	}
	pin, why := c.pin(cmd, found, facts)
	if why != "" {
		return gitResult{gitDir: first, why: misled + "; and it cannot be given the repository instead: " + why}
	}
	return gitResult{gitDir: first, pin: pin}
}

// searchRisk says how a sandbox could make git, searching for its
// repository from dir as d did, find another one ("" if it cannot): a
// directory git passes on its way up may get a .git or a bare repository
// planted while git starts, and a name on the way to dir may be renamed.
func (c *check) searchRisk(d discovery, dir, moved, movedRoot string) string {
	for _, looked := range d.looked {
		if root, ok := c.view.writable(looked); ok {
			return fmt.Sprintf("git looks for a repository in %s, which the sandbox can write (writable root %s): "+
				"a .git or a repository planted there while git starts would be used", looked, root)
		}
	}
	if moved != "" {
		return fmt.Sprintf("the sandbox can rename or replace %s (in writable root %s), so it can change which repository git finds from %s", moved, movedRoot, dir)
	}
	return ""
}

// enterRepoSuffixes are what git's enter_repo tries after a repository
// path it is given, in order.
var enterRepoSuffixes = []string{"/.git", "", ".git/.git", ".git"}

// named finds the repository at path as git does for a path it is given
// (--git-dir, GIT_DIR, receive-pack's argument: enter_repo tries the
// suffixes in order). Every name tried before the one used must be one no
// sandbox can create. A path with no repository is no repository.
func (c *check) named(what, path string, suffixes []string, genv gitEnv) (*repository, string) {
	for _, s := range suffixes {
		p := path + s
		if why := c.view.readOnly(what, p, false); why != "" {
			return nil, why
		}
		st, err := c.view.stat(p)
		if err != nil {
			continue
		}
		var repo *repository
		if st.isRegular() {
			repo, err = c.view.gitEntry(genv, p)
		} else if st.isDir() {
			repo, err = c.view.gitDirAt(genv, p, p)
		}
		if err != nil {
			return nil, err.Error()
		}
		if repo != nil {
			return repo, ""
		}
	}
	return nil, ""
}

// repoFacts is what a repository's configuration says about its work tree.
type repoFacts struct {
	workTree bool // core.worktree is set
	bare     bool // core.bare is true
}

// repository checks what git takes code from in repo: its git and common
// directories, its configuration and what that names, its hooks, and with
// submodules, the work trees git may take (workTrees, plus core.worktree).
// It also returns what the configuration says about the work tree.
func (c *check) repository(repo *repository, workTrees []string, pushes bool) (repoFacts, string) {
	if why := c.view.readOnly("the .git entry", repo.entry, false); why != "" {
		return repoFacts{}, why
	}
	if repo.named != repo.entry {
		// The path a gitfile (or GIT_DIR, --git-dir) names, as git follows it.
		if why := c.view.readOnly("the git directory", repo.named, false); why != "" {
			return repoFacts{}, why
		}
	}
	if why := c.view.readOnly("the git directory", repo.gitDir, true); why != "" {
		return repoFacts{}, why
	}
	if repo.commonDir != repo.gitDir {
		if why := c.view.readOnly("the common git directory", repo.commonDir, true); why != "" {
			return repoFacts{}, why
		}
	}
	cfg := &configWalk{check: c}
	cfg.file(filepath.Join(repo.commonDir, "config"), 0)
	if cfg.worktreeConfig {
		cfg.file(filepath.Join(repo.gitDir, "config.worktree"), 0)
	}
	if cfg.why != "" {
		return repoFacts{}, cfg.why
	}
	facts := repoFacts{workTree: len(cfg.workTrees) > 0, bare: cfg.bare}
	if pushes {
		// Any configured remote may be the one pushed to; a relative
		// path is relative to where git runs.
		dirs := workTrees
		if len(dirs) == 0 {
			dirs = []string{repo.gitDir}
		}
		for _, r := range cfg.remotes {
			for _, d := range dirs {
				remote, why := c.named("the remote repository", under(d, r), enterRepoSuffixes, c.genv)
				if why == "" && remote != nil {
					_, why = c.repository(remote, nil, false)
				}
				if why != "" {
					return repoFacts{}, why
				}
				if filepath.IsAbs(r) {
					break
				}
			}
		}
	}
	for _, wt := range cfg.workTrees {
		// core.worktree is relative to the git directory.
		if p, ok := cfg.path(wt, repo.gitDir); ok {
			workTrees = append(workTrees, p)
		} else {
			return repoFacts{}, fmt.Sprintf("core.worktree %q is a path this check cannot resolve", wt)
		}
	}
	// Relative hooksPath and fsmonitor paths are relative to where hooks
	// run: the work tree, or the git directory when there is none.
	runDirs := workTrees
	if len(runDirs) == 0 {
		runDirs = []string{repo.gitDir}
	}
	hooks, why := cfg.resolve(runDirs)
	if why != "" {
		return repoFacts{}, why
	}
	if len(cfg.hooksPaths) == 0 {
		hooks = append(hooks, filepath.Join(repo.commonDir, "hooks"))
	}
	for _, h := range hooks {
		if why := c.hooks(h); why != "" {
			return repoFacts{}, why
		}
	}
	for _, wt := range workTrees {
		if c.view.readOnly("the work tree", wt, true) == "" {
			continue
		}
		has, err := c.view.hasGitlinks(filepath.Join(repo.gitDir, "index"), cfg.hashLen())
		if err != nil {
			return repoFacts{}, err.Error()
		}
		if has {
			return repoFacts{}, fmt.Sprintf("the repository %s has submodules, and git enters each through the .git in its directory of the work tree %s, which the sandbox can write", repo.gitDir, wt)
		}
		break
	}
	return facts, ""
}

// hooks checks a hooks directory: no sandbox can add a hook to it, and no
// hook in it is a symlink to a file a sandbox can write.
func (c *check) hooks(dir string) string {
	if why := c.view.readOnly("the hooks directory", dir, true); why != "" {
		return why
	}
	links, err := c.view.symlinksIn(dir)
	if err != nil {
		return "" // no hooks
	}
	for _, name := range links {
		p := filepath.Join(dir, name)
		target, err := c.view.realpath(p)
		if err != nil {
			continue // dangling: git cannot run it
		}
		if why := c.view.readOnly("the hook "+p+" is a symlink to "+target+"; that file", target, false); why != "" {
			return why
		}
	}
	return ""
}

// globalConfig checks the configuration files git reads besides the
// repository's: the system's and the user's.
func (c *check) globalConfig() string {
	cfg := &configWalk{check: c}
	if b, _ := gitBool(c.env["GIT_CONFIG_NOSYSTEM"]); !b {
		system := "/etc/gitconfig"
		if v, ok := c.env["GIT_CONFIG_SYSTEM"]; ok {
			system = v
		}
		cfg.file(system, 0)
	}
	if v, ok := c.env["GIT_CONFIG_GLOBAL"]; ok {
		cfg.file(v, 0)
	} else {
		home := c.env["HOME"]
		xdg := c.env["XDG_CONFIG_HOME"]
		if xdg == "" && home != "" {
			xdg = filepath.Join(home, ".config")
		}
		if xdg != "" {
			cfg.file(filepath.Join(xdg, "git", "config"), 0)
		}
		if home != "" {
			cfg.file(filepath.Join(home, ".gitconfig"), 0)
		}
	}
	if cfg.why != "" {
		return cfg.why
	}
	// Relative paths here depend on the repository: refused.
	hooks, why := cfg.resolve(nil)
	if why != "" {
		return why
	}
	for _, h := range hooks {
		if why := c.hooks(h); why != "" {
			return why
		}
	}
	return ""
}

// maxIncludeDepth is git's limit on nested includes.
const maxIncludeDepth = 10

// configWalk reads configuration files and what they include, collecting
// the settings that name code or where it is.
type configWalk struct {
	*check
	hooksPaths     []setting // every core.hooksPath
	fsmonitors     []setting // every core.fsmonitor naming a program by path
	workTrees      []string  // every core.worktree
	remotes        []string  // every remote.*.url and pushurl naming a path here
	worktreeConfig bool
	bare           bool // core.bare is true
	sha256         bool
	why            string // the first reason not to trust
}

// setting is a path-valued setting and the file that set it.
type setting struct{ file, value string }

func (w *configWalk) hashLen() int {
	if w.sha256 {
		return 32
	}
	return 20
}

// file checks and reads one config file: it must be one no sandbox can
// write or create.
func (w *configWalk) file(path string, depth int) {
	if w.why != "" {
		return
	}
	if !filepath.IsAbs(path) {
		w.why = fmt.Sprintf("config file %q is not an absolute path", path)
		return
	}
	if why := w.view.readOnly("the git config file", path, false); why != "" {
		w.why = why
		return
	}
	entries, err := w.view.config(path)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		w.why = fmt.Sprintf("reading git config: %v", err)
		return
	}
	for _, e := range entries {
		w.entry(path, e, depth)
	}
}

func (w *configWalk) entry(file string, e configEntry, depth int) {
	section, name := e.key, ""
	if i := strings.LastIndexByte(e.key, '.'); i >= 0 {
		section, name = e.key[:i], e.key[i+1:]
	}
	switch {
	case name == "path" && (section == "include" || strings.HasPrefix(section, "includeif.")):
		// Every includeIf counts, whatever its condition.
		if depth+1 > maxIncludeDepth {
			w.why = fmt.Sprintf("%s: includes nested deeper than git allows", file)
			return
		}
		p, ok := w.path(e.value, filepath.Dir(file))
		if !ok {
			w.why = fmt.Sprintf("%s includes %q, a path this check cannot resolve", file, e.value)
			return
		}
		w.file(p, depth+1)
	case e.key == "core.hookspath":
		w.hooksPaths = append(w.hooksPaths, setting{file, e.value})
	case e.key == "core.fsmonitor":
		if _, err := gitBool(e.value); err == nil {
			return // git's own daemon, or none
		}
		prog, _, _ := strings.Cut(strings.TrimSpace(e.value), " ")
		if strings.Contains(prog, "/") || strings.HasPrefix(prog, "~") {
			w.fsmonitors = append(w.fsmonitors, setting{file, prog})
		} // else found on the server's PATH
	case e.key == "core.worktree":
		w.workTrees = append(w.workTrees, e.value)
	case e.key == "core.bare":
		// A bare "bare" (no '=') is true; anything unclear counts as true.
		b, err := gitBool(e.value)
		w.bare = b || err != nil || e.value == ""
	case strings.HasPrefix(section, "remote.") && (name == "url" || name == "pushurl"):
		if p, ok := localURL(e.value); ok {
			w.remotes = append(w.remotes, p)
		}
	case e.key == "extensions.worktreeconfig":
		w.worktreeConfig, _ = gitBool(e.value)
	case e.key == "extensions.objectformat":
		w.sha256 = strings.EqualFold(e.value, "sha256")
	}
}

// resolve checks the core.fsmonitor programs and returns the hooks
// directories, relative paths taken against each of runDirs.
func (w *configWalk) resolve(runDirs []string) ([]string, string) {
	at := func(s setting, what string) ([]string, string) {
		var out []string
		dirs := runDirs
		if filepath.IsAbs(s.value) || strings.HasPrefix(s.value, "~") {
			dirs = []string{""}
		}
		for _, d := range dirs {
			p, ok := w.path(s.value, d)
			if !ok {
				return nil, fmt.Sprintf("%s sets %s to %q, a path this check cannot resolve", s.file, what, s.value)
			}
			out = append(out, p)
		}
		if len(out) == 0 {
			return nil, fmt.Sprintf("%s sets %s to the relative path %q, which this check cannot resolve there", s.file, what, s.value)
		}
		return out, ""
	}
	for _, s := range w.fsmonitors {
		progs, why := at(s, "core.fsmonitor")
		if why != "" {
			return nil, why
		}
		for _, p := range progs {
			if why := w.view.readOnly("the core.fsmonitor program", p, false); why != "" {
				return nil, why
			}
		}
	}
	var hooks []string
	for _, s := range w.hooksPaths {
		dirs, why := at(s, "core.hooksPath")
		if why != "" {
			return nil, why
		}
		hooks = append(hooks, dirs...)
	}
	return hooks, ""
}

// path resolves a path setting as git's interpolate_path does: "~/" is
// $HOME, a relative path is relative to dir. ok is false for what cannot
// be resolved here (another user's "~name", git's "%(prefix)/", a relative
// path without dir).
func (w *configWalk) path(v, dir string) (string, bool) {
	switch {
	case v == "~" || strings.HasPrefix(v, "~/"):
		home := w.env["HOME"]
		if home == "" {
			return "", false
		}
		return home + v[1:], true
	case strings.HasPrefix(v, "~") || strings.HasPrefix(v, "%(prefix)/"):
		return "", false
	case filepath.IsAbs(v):
		return v, true
	case dir == "":
		return "", false
	}
	return under(dir, v), true
}

// under is p taken relative to dir as the kernel takes it: not cleaned,
// so that ".." after a symlink goes where the kernel goes.
func under(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return dir + "/" + p
}
