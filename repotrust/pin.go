package repotrust

import (
	"fmt"
	"path/filepath"
)

// Pin is the repository an escalated git must be given, because git's own
// search for it cannot be trusted: started in a subdirectory of a work tree
// a sandbox can write, git looks for a .git in every directory on its way
// up, and a sandboxed command running at the same time could plant one there
// after the check and before git looks. Given GIT_DIR and GIT_WORK_TREE,
// git looks for nothing: it uses the repository that was checked, and still
// works out where in the work tree it was started (relative paths, the
// prefix its output is relative to), as it does after finding the
// repository itself.
type Pin struct {
	GitDir   string // the git directory, every symlink resolved
	WorkTree string // the directory its .git was found in
}

// Env is what the escalated program's environment must hold, set over
// everything else it gets.
func (p *Pin) Env() []string {
	return []string{"GIT_DIR=" + p.GitDir, "GIT_WORK_TREE=" + p.WorkTree}
}

// unpinnable are git commands that do not work in the repository they are
// started in, and that GIT_DIR or GIT_WORK_TREE would change: init and
// clone make a repository (there, or where those name), and the commands
// serving a repository named by their argument run its hooks with the
// variables passed on.
var unpinnable = map[string]bool{
	"init": true, "init-db": true, "clone": true,
	"receive-pack": true, "upload-pack": true, "upload-archive": true,
}

// pin returns the Pin that makes git, as cmd runs it, use repo, found by
// discovery and checked; or why git cannot be pinned there without
// behaving otherwise than it would on its own.
func (c *check) pin(cmd gitCommand, repo *repository, facts repoFacts) (*Pin, string) {
	switch {
	case repo == nil:
		return nil, "no repository was found to give git"
	case repo.workTree == "":
		return nil, "the repository found, " + repo.gitDir + ", is bare"
	case unpinnable[cmd.sub]:
		return nil, "git " + cmd.sub + " does not work in the repository it starts in"
	case c.env["GIT_WORK_TREE"] != "":
		return nil, "GIT_WORK_TREE is set in execgate's environment"
	case facts.workTree:
		return nil, "the repository's configuration sets core.worktree"
	case facts.bare:
		return nil, "the repository's configuration sets core.bare"
	}
	// git refuses a repository that is not the user's (safe.directory)
	// when it finds it itself, not when GIT_DIR names it: pinning one
	// would let git use what it would refuse.
	for _, p := range []string{repo.workTree, repo.entry, repo.gitDir} {
		st, err := c.view.lstat(p)
		if err != nil {
			return nil, fmt.Sprintf("%s: %v", p, err)
		}
		if st.uid != c.view.euid {
			return nil, fmt.Sprintf("%s belongs to uid %d, not to execgate's user (git would refuse the repository)", p, st.uid)
		}
	}
	return &Pin{GitDir: repo.gitDir, WorkTree: filepath.Clean(repo.workTree)}, ""
}
