package sandbox

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// pinnedRoot is a writable root opened once, without following symlinks,
// so that everything done to it afterwards (the read-only mounts, the
// Landlock rule) hits that very directory even if a concurrent call
// renames it and leaves a symlink in its place.
type pinnedRoot struct {
	Root
	fd int // O_PATH
}

// procPath names the pinned directory for APIs that take a path.
func (p pinnedRoot) procPath() string { return fmt.Sprintf("/proc/self/fd/%d", p.fd) }

func pinRoots(roots []Root) ([]pinnedRoot, error) {
	out := make([]pinnedRoot, 0, len(roots))
	for _, r := range roots {
		fd, err := openNoSymlinks(r.Path)
		if err != nil {
			closePinned(out)
			return nil, fmt.Errorf("writable root %s: %w", r.Path, err)
		}
		out = append(out, pinnedRoot{Root: r, fd: fd})
	}
	return out, nil
}

func closePinned(ps []pinnedRoot) {
	for _, p := range ps {
		unix.Close(p.fd)
	}
}

// pinPaths opens each of paths (files or directories) as pinRoots does;
// a path that no longer exists gets -1. closeFDs closes them.
func pinPaths(paths []string) ([]int, error) {
	fds := make([]int, 0, len(paths))
	for _, p := range paths {
		fd, err := openPathNoSymlinks(p, 0)
		if errors.Is(err, unix.ENOENT) {
			fd, err = -1, nil
		}
		if err != nil {
			closePinnedFDs(fds)
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		fds = append(fds, fd)
	}
	return fds, nil
}

func closePinnedFDs(fds []int) {
	for _, fd := range fds {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// grants are the read paths and writable files of a spec, pinned as the
// writable roots are (see pinRoots); -1 for one that no longer exists.
type grants struct {
	read, writeFiles []int
}

func pinGrants(h helperSpec) (grants, error) {
	var g grants
	var err error
	if g.read, err = pinPaths(h.Read); err != nil {
		return g, fmt.Errorf("readable path %w", err)
	}
	if g.writeFiles, err = pinPaths(h.WriteFiles); err != nil {
		closePinnedFDs(g.read)
		return grants{}, fmt.Errorf("writable file %w", err)
	}
	return g, nil
}

func (g grants) close() {
	closePinnedFDs(g.read)
	closePinnedFDs(g.writeFiles)
}

// identity is fd's file identity.
func identity(fd int) (fileID, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fileID{}, err
	}
	return fileID{Dev: st.Dev, Ino: st.Ino}, nil
}

// openNoSymlinks opens dir (already resolved by the parent) and fails if
// any component has become a symlink since.
func openNoSymlinks(dir string) (int, error) {
	return openPathNoSymlinks(dir, unix.O_DIRECTORY)
}

// openPathNoSymlinks opens p with O_PATH (plus extra flags) and fails if
// any component, the last included, is a symlink.
func openPathNoSymlinks(p string, extra int) (int, error) {
	flags := unix.O_PATH | unix.O_CLOEXEC | extra
	fd, err := unix.Openat2(unix.AT_FDCWD, p, &unix.OpenHow{Flags: uint64(flags), Resolve: unix.RESOLVE_NO_SYMLINKS})
	if errors.Is(err, unix.ELOOP) {
		return -1, errors.New("a path component is now a symlink")
	}
	if !errors.Is(err, unix.ENOSYS) {
		return fd, err
	}
	// Before Linux 5.6: open, then check where we landed.
	fd, err = unix.Open(p, flags, 0)
	if err != nil {
		return -1, err
	}
	if got, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd)); err != nil || got != p {
		unix.Close(fd)
		return -1, fmt.Errorf("opened %q instead: a path component is now a symlink", got)
	}
	return fd, nil
}
