package sandbox

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// applyMounts runs in the helper's private mount namespace, before
// Landlock (which forbids mount changes afterwards), and makes the
// layout's mounts in order (layout.go says which and why):
//
//   - a read-only view ("ro") is a recursive clone of the original, made
//     read-only and mounted over it: a protected .git, or a path a profile
//     makes read-only inside a writable one;
//   - a mask ("mask") is an empty, read-only tmpfs directory (mode 000, or
//     0111 when later mounts need a way through it) or an empty read-only
//     file mounted over a denied path;
//   - a writable view ("rw") is a clone of the original mounted where a
//     shallower mask or read-only view hid it.
//
// A protected name that does not exist is first created as an empty
// directory, where the server says (mountOp.Make), so that there is
// something to mount over; an empty directory is the harmless
// placeholder: git skips an empty `.git` when it looks for a repository
// and does not list empty directories, and Codex finds no config in an
// empty `.codex`. It stays on the host so later calls reuse it.
//
// Every original is opened before anything is mounted, as later mounts
// hide what they cover, and must be the file the server pinned; each
// target is opened again when its turn comes and must still be the same
// file, unless it lies in a mask made here.
func applyMounts(ops []mountOp, writable []pathID, allWritable bool) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	m := &mounter{orig: make([]int, len(ops)), id: make([]fileID, len(ops)), applied: make([]bool, len(ops))}
	defer m.close()
	ops = slices.Clone(ops)
	for i, op := range ops {
		m.orig[i] = -1
		if len(op.Make) > 0 {
			p, err := makePlaceholder(op)
			if err != nil {
				return fmt.Errorf("protect %s: %w", op.Path, err)
			}
			// The placeholder may be a parent of a missing path:
			// protecting it keeps the path from being created.
			ops[i].Path = p
		}
	}
	// After the placeholders (on mounts this makes read-only), before
	// the originals are pinned (so that views inside writable roots
	// clone the writable copies).
	if !allWritable {
		if err := readOnlyOutside(writable); err != nil {
			return fmt.Errorf("read-only outside writable roots: %w", err)
		}
	}
	for i, op := range ops {
		if op.Path == "" {
			continue // nothing could be created
		}
		fd, id, err := pinOriginal(op)
		if err != nil {
			return fmt.Errorf("%s %s: %w", opVerb(op), op.Path, err)
		}
		m.orig[i], m.id[i] = fd, id
	}
	for i, op := range ops {
		if m.orig[i] < 0 {
			continue // gone since the server looked: nothing to protect
		}
		if op.InMask < 0 || op.InMask > i {
			return fmt.Errorf("bad spec: %s %s in mask %d", opVerb(op), op.Path, op.InMask)
		}
		if err := m.apply(i, op); err != nil {
			return fmt.Errorf("%s %s: %w", opVerb(op), op.Path, err)
		}
		m.applied[i] = true
	}
	return nil
}

func opVerb(op mountOp) string {
	switch op.Kind {
	case opMask:
		return "deny"
	case opWritable:
		return "make writable"
	}
	return "protect"
}

// pinOriginal opens what op mounts over, before any mount, and returns
// its identity: the server's (op.ID), or, for a placeholder made here,
// what was made. -1 when it no longer exists.
func pinOriginal(op mountOp) (int, fileID, error) {
	fd, err := openPathNoSymlinks(op.Path, 0)
	if errors.Is(err, unix.ENOENT) {
		return -1, fileID{}, nil
	}
	if err != nil {
		return -1, fileID{}, err
	}
	id, err := identity(fd)
	if err == nil && len(op.Make) == 0 && id != op.ID {
		err = errReplaced
	}
	if err != nil {
		unix.Close(fd)
		return -1, fileID{}, err
	}
	return fd, id, nil
}

// makePlaceholder creates op.Make's directories in turn below op.MakeIn
// and returns the deepest it made (or found made by a concurrent call),
// "" when it could make none: the sandboxed command has our credentials
// (and fewer capabilities), so it cannot create the name either. Each is
// made relative to the one before, from the pinned MakeIn, so that a
// concurrent rename cannot redirect it.
func makePlaceholder(op mountOp) (string, error) {
	dir, err := openNoSymlinks(op.MakeIn.Path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", op.MakeIn.Path, err)
	}
	defer func() { unix.Close(dir) }()
	if err := sameFile(dir, op.MakeIn.ID); err != nil {
		return "", fmt.Errorf("%s: %w", op.MakeIn.Path, err)
	}
	made, at := "", op.MakeIn.Path
	for _, name := range op.Make {
		switch err := unix.Mkdirat(dir, name, 0o755); {
		case err == nil, errors.Is(err, unix.EEXIST):
			// EEXIST: a concurrent call made it; protect what is there.
		case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM), errors.Is(err, unix.EROFS):
			return made, nil
		default:
			return "", fmt.Errorf("create placeholder %s: %w", filepath.Join(at, name), err)
		}
		at = filepath.Join(at, name)
		next, err := unix.Openat(dir, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return "", fmt.Errorf("placeholder %s: %w", at, err)
		}
		unix.Close(dir)
		dir, made = next, at
	}
	return made, nil
}

// mounter holds what applyMounts opened.
type mounter struct {
	orig    []int    // O_PATH fd of each op's original, -1 if none
	id      []fileID // each original's identity
	applied []bool   // each op made
	empty   int      // a read-only tmpfs holding one empty file, for file masks (0: not made yet)
}

func (m *mounter) close() {
	closePinnedFDs(m.orig)
	if m.empty > 0 {
		unix.Close(m.empty)
	}
}

func (m *mounter) apply(i int, op mountOp) error {
	target, err := openPathNoSymlinks(op.Path, 0)
	if err != nil {
		return err
	}
	defer unix.Close(target)
	// In a mask made here the target is the mask's own skeleton entry;
	// anywhere else it must still be the original.
	if op.InMask == 0 || !m.applied[op.InMask-1] {
		if err := sameFile(target, m.id[i]); err != nil {
			return err
		}
	}
	switch op.Kind {
	case opReadOnly:
		return m.view(i, op, target, true)
	case opWritable:
		return m.view(i, op, target, false)
	case opMask:
		return m.mask(op, target)
	}
	return fmt.Errorf("unknown mount kind %q", op.Kind)
}

// view mounts a clone of op's original (with whatever is mounted below it)
// over target, read-only or as the original is. It needs the mount API of
// Linux 5.12; before that, and where a container's seccomp profile refuses
// it, it falls back to bind mounts of the path as it is seen now.
func (m *mounter) view(i int, op mountOp, target int, readOnly bool) error {
	tree, err := unix.OpenTree(m.orig[i], "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE|unix.AT_EMPTY_PATH)
	if oldKernel(err) {
		return bindView(op.Path, readOnly)
	}
	if err != nil {
		return fmt.Errorf("open_tree: %w", err)
	}
	defer unix.Close(tree)
	if readOnly {
		err = unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY})
		if oldKernel(err) {
			return bindView(op.Path, readOnly)
		}
		if err != nil {
			return fmt.Errorf("mount_setattr: %w", err)
		}
	}
	if err := unix.MoveMount(tree, "", target, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	return nil
}

// mask hides target under an empty read-only directory or file.
func (m *mounter) mask(op mountOp, target int) error {
	if !op.Dir {
		if len(op.Keep) > 0 {
			return errors.New("a file cannot have paths below it")
		}
		return m.maskFile(target)
	}
	fsfd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if oldKernel(err) && len(op.Keep) == 0 {
		return unix.Mount("tmpfs", op.Path, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC|unix.MS_RDONLY, "mode=0")
	}
	if err != nil {
		return fmt.Errorf("fsopen tmpfs: %w (denying a path with more specific entries below it needs Linux 5.12)", err)
	}
	// Built writable by its owner, then closed: the helper may hold no
	// capability but CAP_SYS_ADMIN (an unprivileged user's namespace).
	mnt, err := newTmpfs(fsfd, "0700")
	if err != nil {
		return err
	}
	defer unix.Close(mnt)
	if len(op.KeepFile) != len(op.Keep) {
		return fmt.Errorf("bad spec: %d kinds for %d kept paths", len(op.KeepFile), len(op.Keep))
	}
	var dirs []string
	for i, k := range op.Keep {
		made, err := skeleton(mnt, op.Path, k, op.KeepFile[i])
		if err != nil {
			return fmt.Errorf("room for %s: %w", k, err)
		}
		dirs = append(dirs, made...)
	}
	// A way through to what Keep mounts, nothing to list; deepest first.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := unix.Fchmodat(mnt, dirs[i], 0o111, 0); err != nil {
			return fmt.Errorf("chmod %s: %w", dirs[i], err)
		}
	}
	rootMode := uint32(0)
	if len(op.Keep) > 0 {
		rootMode = 0o111
	}
	if err := unix.Fchmodat(mnt, ".", rootMode, 0); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	if err := unix.MountSetattr(mnt, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
		return fmt.Errorf("mount_setattr: %w", err)
	}
	if err := unix.MoveMount(mnt, "", target, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	return nil
}

// newTmpfs makes a detached tmpfs whose root has mode; fsfd is consumed.
func newTmpfs(fsfd int, mode string) (int, error) {
	defer unix.Close(fsfd)
	if err := unix.FsconfigSetString(fsfd, "mode", mode); err != nil {
		return -1, fmt.Errorf("fsconfig tmpfs mode: %w", err)
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("fsconfig tmpfs: %w", err)
	}
	mnt, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsmount tmpfs: %w", err)
	}
	return mnt, nil
}

// skeleton creates, in the mask's tmpfs mnt (which will cover base), the
// directories leading to keep and an empty directory or file (isFile) at
// keep for a later mount to land on. It returns the directories it made,
// shallowest first, relative to mnt.
func skeleton(mnt int, base, keep string, isFile bool) ([]string, error) {
	rel, err := filepath.Rel(base, keep)
	if err != nil || !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("not below %s", base)
	}
	parts := strings.Split(rel, "/")
	var made []string
	dir := ""
	for _, p := range parts[:len(parts)-1] {
		dir = filepath.Join(dir, p)
		switch err := unix.Mkdirat(mnt, dir, 0o700); {
		case err == nil:
			made = append(made, dir)
		case !errors.Is(err, unix.EEXIST):
			return nil, err
		}
	}
	last := filepath.Join(dir, parts[len(parts)-1])
	if isFile {
		fd, err := unix.Openat(mnt, last, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		return made, unix.Close(fd)
	}
	switch err := unix.Mkdirat(mnt, last, 0o700); {
	case err == nil:
		made = append(made, last)
	case !errors.Is(err, unix.EEXIST):
		return nil, err
	}
	return made, nil
}

// maskFile mounts an empty, read-only file over target.
func (m *mounter) maskFile(target int) error {
	if m.empty == 0 {
		fsfd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
		if err != nil {
			return fmt.Errorf("fsopen tmpfs: %w (denying a file needs Linux 5.12)", err)
		}
		mnt, err := newTmpfs(fsfd, "0700")
		if err != nil {
			return err
		}
		m.empty = mnt
		fd, err := unix.Openat(mnt, "empty", unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("empty file: %w", err)
		}
		unix.Close(fd)
		if err := unix.MountSetattr(mnt, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
			return fmt.Errorf("mount_setattr: %w", err)
		}
	}
	tree, err := unix.OpenTree(m.empty, "empty", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return fmt.Errorf("open_tree: %w", err)
	}
	defer unix.Close(tree)
	if err := unix.MoveMount(tree, "", target, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	return nil
}

// oldKernel reports an error that means "use mount(2) instead": the
// syscall is missing, or a container's seccomp profile refuses the new
// mount API (EPERM; mount(2) then fails clearly if it is refused too).
func oldKernel(err error) bool {
	return errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM)
}

// bindView bind-mounts p onto itself, read-only or writable. The remount
// must keep the flags the kernel locks in a user namespace (nosuid, nodev,
// noexec, atime), or it fails with EPERM: see remount.
func bindView(p string, readOnly bool) error {
	if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind mount: %w", err)
	}
	return remount(p, readOnly)
}

// stNoSymFollow is statfs's flag of a nosymfollow mount (Linux 5.10),
// which golang.org/x/sys/unix lacks.
const stNoSymFollow = 0x2000

// remount makes the bind mount at p read-only, or keeps it writable,
// keeping the flags the kernel locks in a user namespace, and nosymfollow,
// which it does not lock but a remount without it would drop (where
// mount_setattr, which changes only the flags it is given, would keep it).
func remount(p string, readOnly bool) error {
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); err != nil {
		return fmt.Errorf("statfs: %w", err)
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT)
	if readOnly {
		flags |= unix.MS_RDONLY
	}
	for _, f := range []struct{ st, ms uintptr }{
		{unix.ST_NOSUID, unix.MS_NOSUID},
		{unix.ST_NODEV, unix.MS_NODEV},
		{unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME},
		{unix.ST_NODIRATIME, unix.MS_NODIRATIME},
		{unix.ST_RELATIME, unix.MS_RELATIME},
		{stNoSymFollow, unix.MS_NOSYMFOLLOW},
	} {
		if uintptr(st.Flags)&f.st != 0 {
			flags |= f.ms
		}
	}
	if err := unix.Mount("", p, "", flags, ""); err != nil {
		return fmt.Errorf("remount: %w", err)
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
