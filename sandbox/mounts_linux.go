package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// protectPaths runs in the helper's private mount namespace, before
// Landlock (which forbids mount changes afterwards). Each protected path
// becomes a read-only bind mount of itself. A missing one is first created
// as an empty directory so that there is something to mount over; an empty
// directory is the harmless placeholder: git skips an empty `.git` when it
// looks for a repository and does not list empty directories, and Codex
// finds no config in an empty `.codex`. It stays on the host so later calls
// reuse it.
func protectPaths(roots []Root) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	for _, r := range roots {
		for _, p := range r.Protected {
			if err := protectPath(p, roots); err != nil {
				return fmt.Errorf("protect %s: %w", p, err)
			}
		}
	}
	return nil
}

func protectPath(p string, roots []Root) error {
	if !insideRoots(p, roots) {
		// Landlock already keeps it read-only (a gitdir elsewhere).
		return nil
	}
	target, err := mountTarget(p, roots)
	if err != nil || target == "" {
		return err
	}
	return bindReadOnly(target)
}

// mountTarget returns what to mount over for p: p itself when it exists,
// else its first missing component, created as an empty directory. "" means
// nothing needs protecting.
func mountTarget(p string, roots []Root) (string, error) {
	fi, err := os.Lstat(p)
	if err == nil {
		if fi.Mode()&fs.ModeSymlink != 0 {
			if othersStickyEntry(p, fi) {
				// Another user's link in a sticky directory (/tmp):
				// we cannot remove or replace it, nor can the call.
				return "", nil
			}
			// A mount would land on the symlink's target, leaving the
			// link itself replaceable: refuse rather than pretend.
			return "", fmt.Errorf("is a symlink; cannot be kept read-only")
		}
		return p, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	first := p
	for {
		parent := filepath.Dir(first)
		if _, err := os.Lstat(parent); err == nil || parent == first {
			break
		}
		first = parent
	}
	if !insideRoots(first, roots) {
		return "", nil
	}
	switch err := unix.Mkdir(first, 0o755); {
	case err == nil, errors.Is(err, unix.EEXIST):
		// EEXIST: a concurrent call made it; protect what is there.
		return mountTarget(p, roots)
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM), errors.Is(err, unix.EROFS):
		// The sandboxed command has our credentials (and fewer
		// capabilities): it cannot create the name either.
		return "", nil
	default:
		return "", fmt.Errorf("create placeholder %s: %w", first, err)
	}
}

// bindReadOnly bind-mounts p onto itself read-only. The remount must keep
// the flags the kernel locks in a user namespace (nosuid, nodev, noexec,
// atime), or it fails with EPERM.
func bindReadOnly(p string) error {
	if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind mount: %w", err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); err != nil {
		return fmt.Errorf("statfs: %w", err)
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY)
	for _, f := range []struct{ st, ms uintptr }{
		{unix.ST_NOSUID, unix.MS_NOSUID},
		{unix.ST_NODEV, unix.MS_NODEV},
		{unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME},
		{unix.ST_NODIRATIME, unix.MS_NODIRATIME},
		{unix.ST_RELATIME, unix.MS_RELATIME},
	} {
		if uintptr(st.Flags)&f.st != 0 {
			flags |= f.ms
		}
	}
	if err := unix.Mount("", p, "", flags, ""); err != nil {
		return fmt.Errorf("remount read-only: %w", err)
	}
	return nil
}

// mountProc gives the pid namespace its own /proc, so the call sees only
// its own processes.
func mountProc() error {
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	return nil
}

func insideRoots(p string, roots []Root) bool {
	for _, r := range roots {
		if within(p, r.Path) {
			return true
		}
	}
	return false
}

// othersStickyEntry reports whether p (described by fi) sits in a sticky
// directory and belongs to someone else, so that we cannot unlink it.
func othersStickyEntry(p string, fi fs.FileInfo) bool {
	dir, err := os.Stat(filepath.Dir(p))
	if err != nil || dir.Mode()&fs.ModeSticky == 0 {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	dst, ok2 := dir.Sys().(*syscall.Stat_t)
	uid := uint32(os.Geteuid())
	return ok && ok2 && uid != 0 && st.Uid != uid && dst.Uid != uid
}
