package policy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SystemDir is where system-wide Codex configuration and rules live.
const SystemDir = "/etc/codex"

// Home returns the configuration home: $EXECGATE_HOME, else $CODEX_HOME,
// else ~/.codex, so that existing Codex rules and config just work.
func Home() (string, error) {
	if h := os.Getenv("EXECGATE_HOME"); h != "" {
		return h, nil
	}
	if h := os.Getenv("CODEX_HOME"); h != "" {
		return h, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the home directory for ~/.codex: %w", err)
	}
	return filepath.Join(home, ".codex"), nil
}

// Sources says where rules come from, lowest precedence first.
type Sources struct {
	// SystemDir holds rules/ and requirements.toml (default /etc/codex;
	// "-" to skip both).
	SystemDir string
	// Home is $CODEX_HOME (see Home); its rules/ directory is read.
	Home string
	// Cwd, when set, is where project .codex/rules directories are looked
	// for, from the project root down to Cwd.
	Cwd string
	// ProjectRootMarkers find the project root above Cwd (default .git).
	ProjectRootMarkers []string
	// Config supplies project trust ([projects."<path>"] trust_level).
	Config *Config
	// Projects are project rules directories to read after those found
	// from Cwd, as ProjectRulesDirs returned them: a server that decides
	// the project per call leaves Cwd empty and sets these.
	Projects []string
	// Extra files (from flags and [execgate] rules), loaded last.
	Extra []string
}

// Files lists the rules files to load, in order: system, home, trusted
// projects (root first), extra. Each rules directory contributes its regular
// files named *.rules (dotfiles included, not recursive, sorted by name). A
// missing directory counts as empty. Project rules load only when the
// project is trusted; skipped projects are reported in notes.
func (s Sources) Files() (files, notes []string, err error) {
	if system := s.systemDir(); system != "" {
		f, err := rulesIn(filepath.Join(system, "rules"))
		if err != nil {
			return nil, nil, err
		}
		files = append(files, f...)
	}
	if s.Home != "" {
		f, err := rulesIn(filepath.Join(s.Home, "rules"))
		if err != nil {
			return nil, nil, err
		}
		files = append(files, f...)
	}
	var projects []string
	if s.Cwd != "" {
		projects, notes = s.ProjectRulesDirs(s.Cwd)
	}
	for _, dir := range append(projects, s.Projects...) {
		f, err := rulesIn(dir)
		if err != nil {
			return nil, nil, err
		}
		files = append(files, f...)
	}
	return append(files, s.Extra...), notes, nil
}

func (s Sources) systemDir() string {
	switch s.SystemDir {
	case "":
		return SystemDir
	case "-":
		return ""
	}
	return s.SystemDir
}

// RequirementsFile is the admin requirements file, whose [rules] every
// policy from these sources includes after all rules files; "" when
// SystemDir is "-". (Codex also reads requirements from its cloud service,
// MDM and a legacy managed config; execgate reads only this file.)
func (s Sources) RequirementsFile() string {
	if system := s.systemDir(); system != "" {
		return filepath.Join(system, RequirementsFileName)
	}
	return ""
}

// NewStore loads the policy of these sources (rules files, then admin
// requirements) into a Store that follows changes to both. opts.Load's
// Requirements is set from RequirementsFile.
func (s Sources) NewStore(ctx context.Context, opts StoreOptions) (*Store, error) {
	opts.Load.Requirements = s.RequirementsFile()
	return NewStore(ctx, s.List, opts)
}

// SharedRulesDirs are the rules directories every policy from these
// sources reads, whether or not they exist: the system's and the home's
// (project directories are found per working directory).
func (s Sources) SharedRulesDirs() []string {
	var dirs []string
	if system := s.systemDir(); system != "" {
		dirs = append(dirs, filepath.Join(system, "rules"))
	}
	if s.Home != "" {
		dirs = append(dirs, filepath.Join(s.Home, "rules"))
	}
	return dirs
}

// List is Files without the notes, in the shape NewStore takes.
func (s Sources) List() ([]string, error) {
	files, _, err := s.Files()
	return files, err
}

func findProjectRoot(cwd string, markers []string) string {
	if len(markers) == 0 {
		return cwd
	}
	for d := cwd; ; d = filepath.Dir(d) {
		for _, m := range markers {
			if _, err := os.Lstat(filepath.Join(d, m)); err == nil {
				return d
			}
		}
		if d == filepath.Dir(d) {
			return cwd
		}
	}
}

func canonical(p string) string {
	if p == "" {
		return ""
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return filepath.Clean(p)
}

// rulesIn lists dir's *.rules regular files (symlinks followed), sorted.
func rulesIn(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read rules files from %s: %w", dir, err)
	}
	var out []string
	for _, e := range entries { // ReadDir sorts by name
		name := e.Name()
		if !strings.HasSuffix(name, ".rules") || name == ".rules" {
			continue
		}
		p := filepath.Join(dir, name)
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}
