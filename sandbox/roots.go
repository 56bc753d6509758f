package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// protectedNames are the entries of every writable root that stay read-only:
// an escalated (unsandboxed) git, or Codex itself, would otherwise run
// whatever the sandboxed code wrote into them.
var protectedNames = []string{".git", ".codex", ".agents"}

// Root is a writable directory and the paths inside it that stay read-only:
// execgate's protected names, the directory a .git file points to (which
// may lie elsewhere) and what the policy makes read-only inside it. The
// protected names may not exist yet: the helper then keeps them from being
// created.
type Root struct {
	Path      string   `json:"path"`
	Protected []string `json:"protected,omitempty"`
}

// Roots returns the writable roots of spec with symlinks resolved, each
// with its protected paths, as [Spec.Layout] computes them. For the three
// modes: the configured roots, the workspace, /tmp and $TMPDIR (unless
// excluded), in that order and without duplicates; only workspace-write has
// any.
func (s Spec) Roots() ([]Root, error) {
	l, err := s.Layout()
	if err != nil {
		return nil, err
	}
	return l.Roots, nil
}

// checkPlantedSymlink refuses a root reached through a symlink that lies
// inside another writable root: an earlier sandboxed call could have
// planted it (move the workspace away, link its name to $HOME) to make
// this call's root anything it likes.
func checkPlantedSymlink(p, real string, reals []string) error {
	if p == real {
		return nil
	}
	for prefix := p; prefix != "/" && prefix != "."; prefix = filepath.Dir(prefix) {
		fi, err := os.Lstat(prefix)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			continue
		}
		dir, err := filepath.EvalSymlinks(filepath.Dir(prefix))
		if err != nil {
			return fmt.Errorf("sandbox: writable root %q: %w", p, err)
		}
		link := filepath.Join(dir, filepath.Base(prefix))
		for _, other := range reals {
			if other != real && within(link, other) {
				return fmt.Errorf("sandbox: writable root %q goes through symlink %s inside writable root %s, "+
					"which sandboxed code can replace; name the real directory %s instead", p, link, other, real)
			}
		}
	}
	return nil
}

// protectedPaths lists the read-only entries of root, plus the directory a
// `.git` file points to (worktrees and submodules), which holds the config
// and hooks git would run.
func protectedPaths(root string) []string {
	out := make([]string, 0, len(protectedNames)+1)
	for _, n := range protectedNames {
		out = append(out, filepath.Join(root, n))
	}
	if dir, ok := gitdirTarget(filepath.Join(root, ".git")); ok {
		out = append(out, dir)
	}
	return out
}

// gitdirTarget reads a `.git` file ("gitdir: PATH") and returns the
// absolute, cleaned target. ok is false when .git is not such a file.
func gitdirTarget(dotgit string) (string, bool) {
	fi, err := os.Lstat(dotgit)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > 64<<10 {
		return "", false
	}
	data, err := os.ReadFile(dotgit)
	if err != nil {
		return "", false
	}
	line, _, _ := strings.Cut(string(data), "\n")
	rest, ok := strings.CutPrefix(line, "gitdir:")
	if !ok {
		return "", false
	}
	target := strings.TrimSpace(rest)
	if target == "" {
		return "", false
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(dotgit), target)
	}
	return filepath.Clean(target), true
}

// within reports whether p is dir or lies below it (both clean, absolute).
func within(p, dir string) bool {
	if dir == "/" {
		return true
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}
