package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// readOnlyOutside makes every mount of the helper's namespace read-only
// except the writable roots and files (keep, which the server chose and
// pinned: see writableMounts), which are cloned first and put back
// writable over their now read-only originals.
//
// Landlock confines writes to file contents and names but not to file
// attributes: without this a sandboxed command could chmod (setuid bits
// included), chown, utimes or setxattr any file its user owns anywhere. A
// read-only mount refuses all of them with EROFS, while device nodes (/dev/null,
// a terminal) stay writable on it, as the kernel only checks the mount for
// the files a filesystem stores.
//
// It runs before the layout's own mounts, which then clone from the tree
// it leaves: a protected .git in a writable root is cloned from the root's
// writable clone and made read-only again.
func readOnlyOutside(keep []pathID) error {
	paths := make([]string, len(keep))
	fds := make([]int, 0, len(keep)) // O_PATH fds of keep
	defer func() { closePinnedFDs(fds) }()
	for i, k := range keep {
		paths[i] = k.Path
		fd, err := openPathNoSymlinks(k.Path, 0)
		if err != nil {
			return fmt.Errorf("writable %s: %w", k.Path, err)
		}
		fds = append(fds, fd)
		if err := sameFile(fd, k.ID); err != nil {
			return fmt.Errorf("writable %s: %w", k.Path, err)
		}
	}
	clones := make([]int, len(keep))
	for i := range clones {
		clones[i] = -1
	}
	defer func() { closePinnedFDs(clones) }()
	for i, fd := range fds {
		tree, err := unix.OpenTree(fd, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE|unix.AT_EMPTY_PATH)
		if oldKernel(err) {
			return readOnlyOutsideLegacy(paths)
		}
		if err != nil {
			return fmt.Errorf("clone writable %s: open_tree: %w", paths[i], err)
		}
		clones[i] = tree
	}
	ro := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	err := unix.MountSetattr(unix.AT_FDCWD, "/", unix.AT_RECURSIVE, ro)
	if errors.Is(err, unix.EBUSY) {
		// A mount with a file open for writing cannot turn read-only,
		// and a recursive change is all or nothing. The helper opens
		// nothing for writing here (the server opens the call's
		// cgroup.procs in its own namespace: openBound), but whatever
		// else holds one: mount by mount instead.
		err = eachMountReadOnly(paths, func(p string) error {
			return unix.MountSetattr(unix.AT_FDCWD, p, unix.AT_SYMLINK_NOFOLLOW, ro)
		})
	}
	if oldKernel(err) {
		return readOnlyOutsideLegacy(paths)
	}
	if err != nil {
		return fmt.Errorf("make the mounts under / outside the writable roots %v read-only: %w", paths, err)
	}
	for i, k := range keep {
		if err := putBack(clones[i], k); err != nil {
			return fmt.Errorf("keep %s writable: %w", k.Path, err)
		}
	}
	return nil
}

// putBack mounts the writable clone over k's path, which must still be
// the file pinned (a concurrent rename must not redirect the mount).
func putBack(clone int, k pathID) error {
	target, err := openPathNoSymlinks(k.Path, 0)
	if err != nil {
		return err
	}
	defer unix.Close(target)
	if err := sameFile(target, k.ID); err != nil {
		return err
	}
	if err := unix.MoveMount(clone, "", target, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	return nil
}

// readOnlyOutsideLegacy is readOnlyOutside with mount(2) only (before
// Linux 5.12, or where a container refuses the new mount API): each
// writable path is bound onto itself, then every other mount point is
// remounted read-only, one by one, as mount(2) has no recursive flag
// change.
func readOnlyOutsideLegacy(keep []string) error {
	for _, p := range keep {
		if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind writable %s: %w", p, err)
		}
	}
	return eachMountReadOnly(keep, func(p string) error { return remount(p, true) })
}

// eachMountReadOnly applies readOnly to every mount point not in keep.
func eachMountReadOnly(keep []string, readOnly func(string) error) error {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("list mounts: %w", err)
	}
	points, err := mountPoints(b)
	if err != nil {
		return err
	}
	for _, mp := range points {
		if coveredBy(mp.path, keep) {
			continue
		}
		err := readOnly(mp.path)
		switch {
		case err == nil:
		case errors.Is(err, unix.ENOENT), errors.Is(err, unix.EACCES), errors.Is(err, unix.EINVAL):
			// A mount point hidden by a later mount, or under a
			// directory we cannot search, is out of the command's
			// reach as well.
		case errors.Is(err, unix.EBUSY) && strings.HasPrefix(mp.fstype, "cgroup"):
			// The helper's own cgroup.procs, open for writing: the
			// cgroup files stay as Landlock leaves them (unwritable).
		default:
			return fmt.Errorf("read-only %s: %w", mp.path, err)
		}
	}
	return nil
}

// mountPoint is one line of mountinfo.
type mountPoint struct{ path, fstype string }

// mountPoints lists the mount points of a /proc/self/mountinfo table, in
// its order (parents before children).
func mountPoints(table []byte) ([]mountPoint, error) {
	var out []mountPoint
	sc := bufio.NewScanner(bytes.NewReader(table))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			return nil, fmt.Errorf("mountinfo line %q: too few fields", sc.Text())
		}
		p, err := unescapeMountPath(f[4])
		if err != nil {
			return nil, fmt.Errorf("mountinfo line %q: %w", sc.Text(), err)
		}
		// The filesystem type follows the " - " separator.
		fstype := ""
		if i := slices.Index(f, "-"); i > 0 && i+1 < len(f) {
			fstype = f[i+1]
		}
		out = append(out, mountPoint{p, fstype})
	}
	return out, sc.Err()
}

// unescapeMountPath undoes the kernel's octal escapes (\040 for a space,
// \011, \012, \134) in a mountinfo path.
func unescapeMountPath(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+4 > len(s) {
			return "", fmt.Errorf("bad escape in %q", s)
		}
		n, err := strconv.ParseUint(s[i+1:i+4], 8, 8)
		if err != nil {
			return "", fmt.Errorf("bad escape in %q: %w", s, err)
		}
		b.WriteByte(byte(n))
		i += 3
	}
	return b.String(), nil
}

// coveredBy reports whether p lies in one of dirs.
func coveredBy(p string, dirs []string) bool {
	return slices.ContainsFunc(dirs, func(d string) bool { return within(p, d) })
}
