package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

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
// directory so that there is something to mount over; an empty directory
// is the harmless placeholder: git skips an empty `.git` when it looks for
// a repository and does not list empty directories, and Codex finds no
// config in an empty `.codex`. It stays on the host so later calls reuse
// it.
//
// Every original is opened before anything is mounted, as later mounts
// hide what they cover; each target is opened again when its turn comes and
// must still be the same file, unless it lies in a mask made here.
func applyMounts(ops []mountOp, roots []pinnedRoot, writeFiles []string) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	plain := make([]Root, len(roots))
	for i, r := range roots {
		plain[i] = r.Root
	}
	ops = slices.Clone(ops)
	for i, op := range ops {
		if op.Create {
			p, err := createPlaceholder(op.Path, roots, plain)
			if err != nil {
				return fmt.Errorf("protect %s: %w", op.Path, err)
			}
			// The placeholder may be a parent of a missing path:
			// protecting it keeps the path from being created.
			ops[i].Path = p
		}
	}
	// After the placeholders (made through the roots' pinned fds, on
	// mounts this makes read-only), before the originals are pinned (so
	// that views inside writable roots clone the writable copies).
	if err := readOnlyOutside(roots, writeFiles); err != nil {
		return fmt.Errorf("read-only outside writable roots: %w", err)
	}
	if len(ops) == 0 {
		return nil
	}
	m := &mounter{orig: make([]int, len(ops)), stat: make([]unix.Stat_t, len(ops))}
	defer m.close()
	for i, op := range ops {
		fd, err := pinOriginal(op)
		if err != nil {
			return fmt.Errorf("%s %s: %w", opVerb(op), op.Path, err)
		}
		m.orig[i] = fd
		if fd >= 0 {
			if err := unix.Fstat(fd, &m.stat[i]); err != nil {
				return fmt.Errorf("%s %s: %w", opVerb(op), op.Path, err)
			}
		}
	}
	for i, op := range ops {
		if m.orig[i] < 0 {
			continue // missing, and nothing asked to create it
		}
		if err := m.apply(i, op); err != nil {
			return fmt.Errorf("%s %s: %w", opVerb(op), op.Path, err)
		}
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

// pinOriginal opens what op mounts over, before any mount: -1 when it does
// not exist, or when it is another user's symlink in a sticky directory
// (/tmp), which neither we nor the sandboxed command can replace.
func pinOriginal(op mountOp) (int, error) {
	fi, err := os.Lstat(op.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return -1, nil
	}
	if err != nil {
		return -1, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if othersStickyEntry(op.Path, fi) {
			return -1, nil
		}
		// A mount would land on the symlink's target, leaving the
		// link itself replaceable: refuse rather than pretend.
		return -1, errors.New("is a symlink; cannot be kept read-only")
	}
	return openPathNoSymlinks(op.Path, 0)
}

// createPlaceholder creates p and its missing parents as empty
// directories, when they lie in a writable root, and returns what to mount
// over: p, or the deepest directory it could create. A direct child of a
// root is made relative to the root's pinned fd, so that a concurrent
// rename of the root cannot redirect it.
func createPlaceholder(p string, pinned []pinnedRoot, roots []Root) (string, error) {
	deepest := p
	for {
		made, err := createFirstMissing(p, pinned, roots)
		switch {
		case err != nil:
			return "", err
		case made == "":
			return deepest, nil
		case made == p:
			return p, nil
		}
		deepest = made
	}
}

// createFirstMissing creates the first missing component of p and
// returns it; p when p exists, "" when it cannot be created.
func createFirstMissing(p string, pinned []pinnedRoot, roots []Root) (string, error) {
	if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
		return p, nil // exists (or cannot be looked at: pinOriginal reports it)
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
	dirfd, closeDir := -1, func() {}
	for _, r := range pinned {
		if filepath.Dir(first) == r.Path {
			dirfd = r.fd
		}
	}
	if dirfd < 0 {
		fd, err := openNoSymlinks(filepath.Dir(first))
		if err != nil {
			return "", err
		}
		dirfd, closeDir = fd, func() { unix.Close(fd) }
	}
	defer closeDir()
	switch err := unix.Mkdirat(dirfd, filepath.Base(first), 0o755); {
	case err == nil, errors.Is(err, unix.EEXIST):
		// EEXIST: a concurrent call made it; protect what is there.
		return first, nil
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM), errors.Is(err, unix.EROFS):
		// The sandboxed command has our credentials (and fewer
		// capabilities): it cannot create the name either.
		return "", nil
	default:
		return "", fmt.Errorf("create placeholder %s: %w", first, err)
	}
}

// mounter holds what applyMounts opened.
type mounter struct {
	orig  []int // O_PATH fd of each op's original, -1 if none
	stat  []unix.Stat_t
	masks []string // paths masked so far
	empty int      // a read-only tmpfs holding one empty file, for file masks (0: not made yet)
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
	if !m.masked(op.Path) {
		var st unix.Stat_t
		if err := unix.Fstat(target, &st); err != nil {
			return err
		}
		if st.Dev != m.stat[i].Dev || st.Ino != m.stat[i].Ino {
			return errors.New("it was replaced while the sandbox was being set up")
		}
	}
	switch op.Kind {
	case opReadOnly:
		return m.view(i, op, target, true)
	case opWritable:
		return m.view(i, op, target, false)
	case opMask:
		if err := m.mask(i, op, target); err != nil {
			return err
		}
		m.masks = append(m.masks, op.Path)
		return nil
	}
	return fmt.Errorf("unknown mount kind %q", op.Kind)
}

// masked reports whether p lies in a mask made earlier.
func (m *mounter) masked(p string) bool {
	for _, mk := range m.masks {
		if within(p, mk) {
			return true
		}
	}
	return false
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
func (m *mounter) mask(i int, op mountOp, target int) error {
	if m.stat[i].Mode&unix.S_IFMT != unix.S_IFDIR {
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
	var dirs []string
	for _, k := range op.Keep {
		made, err := m.skeleton(mnt, op.Path, k)
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
// directories leading to keep and an empty directory or file at keep for a
// later mount to land on. It returns the directories it made, shallowest
// first, relative to mnt.
func (m *mounter) skeleton(mnt int, base, keep string) ([]string, error) {
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
	var st unix.Stat_t
	if err := unix.Stat(keep, &st); err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
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
