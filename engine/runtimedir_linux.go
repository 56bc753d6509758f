package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// runtimeDir creates the server's private directory for the execve wrapper
// and its helpers when none are installed (installedHelperDir). It must lie
// outside every path a sandboxed call can write, or a call could replace
// the wrapper every later call execs through: so the --runtime-dir flag
// (dir) when given, else $XDG_RUNTIME_DIR (a per-user tmpfs) when usable,
// else the user cache directory; never /tmp, which workspace-write makes
// writable. The caller removes it when the server exits, and holds the
// returned lock until then (see removeStale).
func runtimeDir(dir string, getenv func(string) string) (string, *os.File, error) {
	var bases []string
	switch x := getenv("XDG_RUNTIME_DIR"); {
	case dir != "":
		bases = append(bases, dir)
	case filepath.IsAbs(x) && ownedPrivateDir(x):
		bases = append(bases, x)
	}
	if c, err := os.UserCacheDir(); err == nil && filepath.IsAbs(c) && dir == "" {
		bases = append(bases, filepath.Join(c, "execgate"))
	}
	var errs []error
	for _, base := range bases {
		dir, lock, err := newRuntimeDir(base)
		if err == nil {
			return dir, lock, nil
		}
		errs = append(errs, err)
	}
	if dir != "" {
		return "", nil, fmt.Errorf("flag --runtime-dir: %w", errors.Join(errs...))
	}
	return "", nil, fmt.Errorf("no private directory for the execve wrapper: none is installed next to this execgate and %s (%w); "+
		"install execgate with `make install` (the wrapper is then used from PREFIX/libexec/execgate), "+
		"or give a private directory outside every writable root with --runtime-dir DIR in the MCP client's server arguments",
		describeBases(bases, getenv), errors.Join(errs...))
}

// describeBases says which directories runtimeDir tried.
func describeBases(bases []string, getenv func(string) string) string {
	if len(bases) == 0 {
		return "neither $XDG_RUNTIME_DIR nor a user cache directory is set"
	}
	s := "tried " + strings.Join(bases, " and ")
	if getenv("XDG_RUNTIME_DIR") == "" {
		s += " ($XDG_RUNTIME_DIR is not set: MCP clients such as Codex pass servers little of their environment)"
	}
	return s
}

// newRuntimeDir makes a locked private directory under base.
func newRuntimeDir(base string) (string, *os.File, error) {
	if err := os.MkdirAll(base, 0o700); err != nil {
		return "", nil, err
	}
	if !ownedPrivateDir(base) {
		return "", nil, fmt.Errorf("%s is not a directory of ours that only we can write", base)
	}
	if noexec(base) {
		return "", nil, fmt.Errorf("%s is on a noexec file system", base)
	}
	removeStale(base)
	dir, err := os.MkdirTemp(base, "run-"+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return "", nil, err
	}
	// MkdirTemp creates 0700, but a umask could only narrow it; make sure.
	if err := os.Chmod(dir, 0o700); err != nil {
		os.Remove(dir)
		return "", nil, err
	}
	lock, err := lockRuntimeDir(dir)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return dir, lock, nil
}

// ownedPrivateDir reports whether dir is a directory owned by us that
// nobody else can write.
func ownedPrivateDir(dir string) bool {
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid() && fi.Mode().Perm()&0o022 == 0
}

// noexec reports whether dir's file system refuses to execute files: the
// wrapper could not run from there.
func noexec(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Flags&unix.ST_NOEXEC != 0
}

// liveLock is the file in a runtime directory its server keeps locked
// (flock, exclusive) for as long as it runs.
const liveLock = ".live"

// lockRuntimeDir creates and locks dir's liveLock. The lock belongs to the
// open file description, which is close-on-exec, so it ends with the
// server however the server ends.
func lockRuntimeDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, liveLock), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("runtime directory lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("runtime directory lock %s: %w", f.Name(), err)
	}
	return f, nil
}

// staleAfter is how old a runtime directory without a lock file must be
// before it counts as abandoned: a server creates the lock right after the
// directory, so a younger one may be a server starting now.
const staleAfter = time.Minute

// removeStale removes the runtime directories of servers that are gone
// without cleaning up (killed). A directory is live while its server holds
// the lock on its liveLock: a process id would say nothing about a server
// in another PID namespace (a container, a sandbox) and could be reused.
func removeStale(base string) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "run-") || !e.IsDir() {
			continue
		}
		dir := filepath.Join(base, e.Name())
		if abandoned(dir) {
			os.RemoveAll(dir)
		}
	}
}

// abandoned reports whether no server holds dir's lock.
func abandoned(dir string) bool {
	f, err := os.OpenFile(filepath.Join(dir, liveLock), os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if errors.Is(err, os.ErrNotExist) {
		// A server of an earlier release (no lock file) is judged by the
		// pid in the name, as it was then.
		fi, err := os.Lstat(dir)
		return err == nil && time.Since(fi.ModTime()) > staleAfter && !pidAlive(dir)
	}
	if err != nil {
		return false
	}
	defer f.Close()
	return unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB) == nil
}

// pidAlive reports whether the pid in a runtime directory's name
// (run-PID-...) is a process that exists, or the name holds none.
func pidAlive(dir string) bool {
	rest, _ := strings.CutPrefix(filepath.Base(dir), "run-")
	pidText, _, _ := strings.Cut(rest, "-")
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 {
		return true
	}
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
