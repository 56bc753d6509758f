package repotrust

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// repository is what git would use, as discovered from a directory.
type repository struct {
	// entry is the name git found: DIR/.git (a directory or a gitfile),
	// or the bare repository's directory itself.
	entry string
	// named is the path git follows to the git directory: entry, or what
	// a gitfile (or GIT_DIR) says, unresolved.
	named string
	// gitDir is the git directory, symlinks resolved; commonDir is where
	// its config, hooks and objects are (gitDir unless a commondir file
	// names another: a linked work tree).
	gitDir, commonDir string
	// workTree is the directory entry was found in ("" when bare).
	workTree string
}

// discovery is the result of looking for a repository as git does.
type discovery struct {
	repo *repository // nil: none
	// looked are the directories git examines and passes over on its way
	// up (a .git or a bare repository appearing in one would be used).
	looked []string
}

// gitEnv is what of the program's environment changes git's discovery.
type gitEnv struct {
	ceilings  []string // GIT_CEILING_DIRECTORIES, as git canonicalizes it
	acrossFS  bool     // GIT_DISCOVERY_ACROSS_FILESYSTEM
	commonDir string   // GIT_COMMON_DIR (a user's setting: checked as a git directory)
	objectDir string   // GIT_OBJECT_DIRECTORY
}

func newGitEnv(env map[string]string) (gitEnv, error) {
	var g gitEnv
	if v, ok := env["GIT_CEILING_DIRECTORIES"]; ok {
		g.ceilings = canonicalCeilings(v)
	}
	if v, ok := env["GIT_DISCOVERY_ACROSS_FILESYSTEM"]; ok {
		b, err := gitBool(v)
		if err != nil {
			return g, fmt.Errorf("GIT_DISCOVERY_ACROSS_FILESYSTEM: %w", err)
		}
		g.acrossFS = b
	}
	g.commonDir = env["GIT_COMMON_DIR"]
	g.objectDir = env["GIT_OBJECT_DIRECTORY"]
	return g, nil
}

// canonicalCeilings applies git's rules: absolute entries only, resolved
// unless an empty entry came before them, dropped when they cannot be
// resolved.
func canonicalCeilings(v string) []string {
	var out []string
	empty := false
	for _, c := range strings.Split(v, ":") {
		switch {
		case c == "":
			empty = true
		case !filepath.IsAbs(c):
		case empty:
			out = append(out, c)
		default:
			if real, err := filepath.EvalSymlinks(c); err == nil {
				out = append(out, real)
			}
		}
	}
	return out
}

// ceilingLen is git's longest_ancestor_length: the length of the longest
// ceiling that is a proper ancestor of dir, a trailing slash not counted
// (so 0 for "/"), -1 if none.
func ceilingLen(dir string, ceilings []string) int {
	if dir == "/" {
		return -1
	}
	best := -1
	for _, c := range ceilings {
		c = strings.TrimSuffix(c, "/")
		n := len(c)
		if !strings.HasPrefix(dir, c) || len(dir) <= n+1 || dir[n] != '/' {
			continue
		}
		best = max(best, n)
	}
	return best
}

// gitBool is git_env_bool's parsing of a variable's value.
func gitBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "false", "no", "off", "0":
		return false, nil
	case "true", "yes", "on", "1":
		return true, nil
	}
	var n int
	if _, err := fmt.Sscanf(v, "%d", &n); err == nil && fmt.Sprint(n) == v {
		return n != 0, nil
	}
	return false, fmt.Errorf("bad boolean value %q", v)
}

// discover finds the repository git would use when started in start (a
// physical path, as getcwd gives it), following setup.c's
// setup_git_directory_gently_1.
func (v *view) discover(start string, env gitEnv) (discovery, error) {
	var d discovery
	ceil := ceilingLen(start, env.ceilings)
	startSt, err := v.stat(start)
	if err != nil {
		return d, err
	}
	for dir := start; ; {
		repo, err := v.gitEntry(env, filepath.Join(dir, ".git"))
		if err != nil {
			return d, err
		}
		if repo != nil {
			repo.workTree = dir
			d.repo = repo
			return d, nil
		}
		if repo, err = v.gitDirAt(env, dir, dir); err != nil || repo != nil {
			d.repo = repo // bare
			return d, err
		}
		d.looked = append(d.looked, dir)
		if dir == "/" {
			return d, nil
		}
		up := parent(dir)
		upLen := len(up)
		if up == "/" {
			upLen = 0
		}
		if upLen <= ceil {
			return d, nil
		}
		if !env.acrossFS {
			st, err := v.stat(up)
			if err != nil {
				return d, err
			}
			if st.id.dev != startSt.id.dev {
				return d, nil
			}
		}
		dir = up
	}
}

// gitEntry examines DIR/.git: a git directory, a gitfile naming one, or
// neither (nil). A gitfile git would refuse is an error: git stops there.
func (v *view) gitEntry(env gitEnv, entry string) (*repository, error) {
	st, err := v.stat(entry)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return nil, nil
	case err != nil:
		return nil, err
	case !st.isRegular():
		return v.gitDirAt(env, entry, entry)
	}
	target, err := readGitfile(entry, st.size)
	if err != nil {
		return nil, err
	}
	repo, err := v.gitDirAt(env, entry, target)
	if err == nil && repo == nil {
		err = fmt.Errorf("%s names %s, which is not a git directory (git stops there)", entry, target)
	}
	return repo, err
}

// gitDirAt describes the git directory dir, found as entry, or returns nil
// when dir is not one.
func (v *view) gitDirAt(env gitEnv, entry, dir string) (*repository, error) {
	common, ok, err := v.isGitDir(env, dir)
	if err != nil || !ok {
		return nil, err
	}
	real, err := v.realpath(dir)
	if err != nil {
		return nil, err
	}
	if common == dir {
		common = real
	}
	return &repository{entry: entry, named: dir, gitDir: real, commonDir: common}, nil
}

// maxGitfile is git's limit on a gitfile's size.
const maxGitfile = 1 << 20

// readGitfile returns the git directory a gitfile names, as
// read_gitfile_gently reads it.
func readGitfile(path string, size int64) (string, error) {
	if size > maxGitfile {
		return "", fmt.Errorf("gitfile %s is too large", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("gitfile %s: %w", path, err)
	}
	s, ok := strings.CutPrefix(string(data), "gitdir: ")
	if !ok {
		return "", fmt.Errorf("gitfile %s: invalid format (git stops there)", path)
	}
	s = strings.TrimRight(s, "\r\n")
	if s == "" {
		return "", fmt.Errorf("gitfile %s: no path (git stops there)", path)
	}
	if !filepath.IsAbs(s) {
		s = filepath.Dir(path) + "/" + s
	}
	return s, nil
}

// isGitDir is git's is_git_directory: a valid HEAD, and objects and refs
// directories in the common directory, which it returns.
func (v *view) isGitDir(env gitEnv, dir string) (common string, ok bool, err error) {
	if !v.validHead(filepath.Join(dir, "HEAD")) {
		return "", false, nil
	}
	if common, err = v.commonDirOf(env, dir); err != nil {
		return "", false, err
	}
	objects := filepath.Join(common, "objects")
	if env.objectDir != "" {
		objects = env.objectDir
	}
	ok = unix.Access(objects, unix.X_OK) == nil && unix.Access(filepath.Join(common, "refs"), unix.X_OK) == nil
	return common, ok, nil
}

// commonDirOf is git's get_common_dir: GIT_COMMON_DIR, else the directory
// a commondir file in dir names (resolved), else dir.
func (v *view) commonDirOf(env gitEnv, dir string) (string, error) {
	if env.commonDir != "" {
		if !filepath.IsAbs(env.commonDir) {
			return "", fmt.Errorf("GIT_COMMON_DIR %q is relative", env.commonDir)
		}
		return filepath.Clean(env.commonDir), nil
	}
	path := filepath.Join(dir, "commondir")
	if _, err := v.stat(path); err != nil {
		return dir, nil
	}
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return "", fmt.Errorf("failed to read %s (git stops there)", path)
	}
	s := strings.TrimRight(string(data), "\r\n")
	if !filepath.IsAbs(s) {
		s = dir + "/" + s
	}
	real, err := v.realpath(s)
	if err != nil {
		return "", fmt.Errorf("%s names %s: %w (git stops there)", path, s, err)
	}
	return real, nil
}

// validHead is git's validate_headref, remembered per HEAD state.
func (v *view) validHead(path string) bool {
	st, err := v.lstat(path)
	if err != nil {
		return false
	}
	if ok, hit := v.files.get("head", path, st); hit {
		return ok.(bool)
	}
	ok := validHead(path, st)
	v.files.put("head", path, st, ok)
	return ok
}

func validHead(path string, st stamp) bool {
	if st.isSymlink() {
		target, err := readlink(path)
		return err == nil && strings.HasPrefix(target, "refs/")
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, 255)
	n, _ := f.Read(buf)
	s := string(buf[:n])
	if ref, ok := strings.CutPrefix(s, "ref:"); ok && strings.HasPrefix(strings.TrimLeft(ref, " \t\n\v\f\r"), "refs/") {
		return true
	}
	return isHexID(s)
}

// isHexID reports whether s starts with a full SHA-1 or SHA-256 object ID
// in hex (get_oid_hex_any).
func isHexID(s string) bool {
	for _, n := range []int{64, 40} {
		if len(s) < n {
			continue
		}
		ok := true
		for _, c := range s[:n] {
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
