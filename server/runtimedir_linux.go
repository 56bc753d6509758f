package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// runtimeDir creates the server's private directory for the execve wrapper
// and the Bash probe. It must lie outside every path a sandboxed call can
// write, or a call could replace the wrapper every later call execs through:
// so $XDG_RUNTIME_DIR (a per-user tmpfs) when usable, else the user cache
// directory; never /tmp, which workspace-write makes writable. The caller
// removes it when the server exits.
func runtimeDir(getenv func(string) string) (string, error) {
	var bases []string
	if x := getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(x) && ownedPrivateDir(x) {
		bases = append(bases, x)
	}
	if c, err := os.UserCacheDir(); err == nil && filepath.IsAbs(c) {
		bases = append(bases, filepath.Join(c, "execgate"))
	}
	var errs []error
	for _, base := range bases {
		if err := os.MkdirAll(base, 0o700); err != nil {
			errs = append(errs, err)
			continue
		}
		if noexec(base) {
			errs = append(errs, fmt.Errorf("%s is on a noexec file system", base))
			continue
		}
		removeStale(base)
		dir, err := os.MkdirTemp(base, "run-"+strconv.Itoa(os.Getpid())+"-")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// MkdirTemp creates 0700, but a umask could only narrow it; make sure.
		if err := os.Chmod(dir, 0o700); err != nil {
			os.Remove(dir)
			errs = append(errs, err)
			continue
		}
		return dir, nil
	}
	return "", fmt.Errorf("no private runtime directory for the execve wrapper (tried $XDG_RUNTIME_DIR and the user cache directory): %v", errs)
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

// removeStale removes the runtime directories of servers that are gone
// without cleaning up (killed): run-PID-* whose PID no longer exists.
func removeStale(base string) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "run-")
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(filepath.Join(base, e.Name()))
		}
	}
}
