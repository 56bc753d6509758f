package sandbox

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// mountShell mounts m's patched Bash read-only over each of its targets.
// It runs after the layout's mounts: a target the layout hides (under a
// denied path) is not there any more and is skipped, so a deny still
// wins. Read-only, because the file may lie in a writable root (the
// server warns about that), and a bind mount below a writable path would
// otherwise let the call write it through the target's name.
func mountShell(m *shellMount) error {
	if m == nil {
		return nil
	}
	src, err := openPathNoSymlinks(m.Source, 0)
	if err != nil {
		return fmt.Errorf("patched Bash %s: %w", m.Source, err)
	}
	defer unix.Close(src)
	for _, t := range m.Targets {
		target, err := openPathNoSymlinks(t, 0)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EACCES) {
			continue // hidden by the layout
		}
		if err != nil {
			return fmt.Errorf("nested Bash %s: %w", t, err)
		}
		err = bindReadOnly(src, m.Source, target, t)
		unix.Close(target)
		if err != nil {
			return fmt.Errorf("mount the patched Bash %s over %s: %w", m.Source, t, err)
		}
	}
	return nil
}

// bindReadOnly mounts a read-only clone of the file src over target
// (srcPath and targetPath name them, for the mount(2) fallback of kernels
// before 5.12 and containers that refuse the new mount API).
func bindReadOnly(src int, srcPath string, target int, targetPath string) error {
	tree, err := unix.OpenTree(src, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH)
	if oldKernel(err) {
		return bindFileReadOnly(srcPath, targetPath)
	}
	if err != nil {
		return fmt.Errorf("open_tree: %w", err)
	}
	defer unix.Close(tree)
	err = unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY})
	if oldKernel(err) {
		return bindFileReadOnly(srcPath, targetPath)
	}
	if err != nil {
		return fmt.Errorf("mount_setattr: %w", err)
	}
	if err := unix.MoveMount(tree, "", target, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	return nil
}

// bindFileReadOnly is bindReadOnly with mount(2): a bind mount, then a
// read-only remount that keeps the flags the kernel locks.
func bindFileReadOnly(src, target string) error {
	if err := unix.Mount(src, target, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind mount: %w", err)
	}
	return remount(target, true)
}
