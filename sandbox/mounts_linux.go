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
func protectPaths(pinned []pinnedRoot, roots []Root) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	for _, r := range pinned {
		for _, p := range r.Protected {
			var err error
			if filepath.Dir(p) == r.Path {
				err = protectName(r, filepath.Base(p))
			} else {
				err = protectPath(p, roots) // a gitdir elsewhere
			}
			if err != nil {
				return fmt.Errorf("protect %s: %w", p, err)
			}
		}
	}
	return nil
}

// protectName makes the entry name of a pinned root read-only, working
// relative to the root's fd so that a concurrent rename of the root
// cannot redirect it. It needs the mount API of Linux 5.12; before that
// it falls back to paths.
func protectName(r pinnedRoot, name string) error {
	p := filepath.Join(r.Path, name)
	var st unix.Stat_t
	err := unix.Fstatat(r.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		switch err := unix.Mkdirat(r.fd, name, 0o755); {
		case err == nil, errors.Is(err, unix.EEXIST):
		case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM), errors.Is(err, unix.EROFS):
			return nil // see mountTarget
		default:
			return fmt.Errorf("create placeholder: %w", err)
		}
		err = unix.Fstatat(r.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	}
	if err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		if fi, err := os.Lstat(p); err == nil && othersStickyEntry(p, fi) {
			return nil
		}
		return fmt.Errorf("is a symlink; cannot be kept read-only")
	}
	tree, err := unix.OpenTree(r.fd, name, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE|unix.AT_SYMLINK_NOFOLLOW)
	if oldKernel(err) {
		return bindReadOnly(p)
	}
	if err != nil {
		return fmt.Errorf("open_tree: %w", err)
	}
	defer unix.Close(tree)
	err = unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY})
	if oldKernel(err) {
		return bindReadOnly(p)
	}
	if err != nil {
		return fmt.Errorf("mount_setattr: %w", err)
	}
	if err := unix.MoveMount(tree, "", r.fd, name, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
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

// oldKernel reports an error that means "use mount(2) instead": the
// syscall is missing, or a container's seccomp profile refuses the new
// mount API (EPERM; mount(2) then fails clearly if it is refused too).
func oldKernel(err error) bool {
	return errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM)
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
