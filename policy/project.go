package policy

import (
	"fmt"
	"os"
	"path/filepath"
)

// ProjectRulesDirs finds the project layer for cwd, as Codex does: the
// project root is the nearest ancestor of cwd holding one of
// ProjectRootMarkers (default .git; none means cwd itself), and every
// directory from the root down to cwd may have a .codex/rules directory.
// It returns the existing rules directories of trusted projects, root
// first, and a note for each one it ignored because its project is not
// trusted. A .codex that is the configuration home is skipped: its rules
// are already read as the home's.
//
// Untrusted projects never contribute rules. (Codex 0.97.0 loads them when
// the project's .codex has no config.toml; execgate does not, so a cloned
// repository cannot allow itself anything.)
func (s Sources) ProjectRulesDirs(cwd string) (dirs, notes []string) {
	cwd = filepath.Clean(cwd)
	markers := s.ProjectRootMarkers
	if markers == nil {
		markers = []string{".git"}
	}
	root := findProjectRoot(cwd, markers)
	var chain []string // cwd first, up to the root
	for d := cwd; ; d = filepath.Dir(d) {
		chain = append(chain, d)
		if d == root || d == filepath.Dir(d) {
			break
		}
	}
	home := ""
	for i := len(chain) - 1; i >= 0; i-- {
		d := chain[i]
		codexDir := filepath.Join(d, ".codex")
		if st, err := os.Stat(codexDir); err != nil || !st.IsDir() {
			continue
		}
		if home == "" {
			home = canonical(s.Home) // only paid when some .codex exists
		}
		if canonical(codexDir) == home {
			continue
		}
		rules := filepath.Join(codexDir, "rules")
		// Any entry counts: a rules file where the directory should be
		// then fails the load with a message naming it.
		if _, err := os.Lstat(rules); err != nil {
			continue
		}
		if !s.projectTrusted(d, root) {
			notes = append(notes, fmt.Sprintf("ignoring rules in %s: project %s is not trusted (set trust_level = \"trusted\" under [projects.%q] in config.toml)", rules, root, root))
			continue
		}
		dirs = append(dirs, rules)
	}
	return dirs, notes
}

// projectTrusted: trust may be configured for the directory holding
// .codex or for the project root, by the path as found or resolved.
func (s Sources) projectTrusted(dir, root string) bool {
	trusted := func(key string) bool { return s.Config.TrustLevel(key) == "trusted" }
	// The paths as found first: resolving them costs a walk each, per call.
	return trusted(dir) || trusted(root) || trusted(canonical(dir)) || trusted(canonical(root))
}
