/*
 * The call's mounts, made in its private mount namespace before Landlock
 * (which forbids mount changes afterwards). The server decided every one
 * (sandbox/layout.go, sandbox/mountplan_linux.go); here they are only
 * made, after checking that each path is still the file the server pinned:
 *
 *   - "/" private, then every mount read-only except the writable roots and
 *     files (the plan's keep list), which are cloned first and put back:
 *     Landlock confines writes to contents and names but not attribute
 *     changes (chmod, chown, utimes, xattrs), which a read-only mount
 *     refuses with EROFS;
 *   - the layout's ops in order: a read-only view ("ro", a protected .git),
 *     an empty read-only tmpfs over a denied path ("mask"), with a skeleton
 *     leading to what a later op mounts inside it, or a writable view
 *     ("rw") under a shallower mask or read-only view;
 *   - the patched Bash read-only over the system's (nested shells);
 *   - a /proc of the call's pid namespace, and the working directory
 *     entered again so that it goes through the new mounts.
 *
 * The new mount API (Linux 5.2 and 5.12) is used where it is allowed; a
 * container's seccomp profile may refuse it (EPERM, ENOSYS), and then
 * mount(2) does what it can, with the mount table the server sent.
 */
#define _GNU_SOURCE
#include "kabi.h"
#include "nsexec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define REPLACED "it was replaced while the sandbox was being set up"

/* open_no_symlinks opens path O_PATH (plus extra flags), refusing a path
 * with a symlink anywhere in it; -1 with errno set on failure. */
static int open_no_symlinks(const char *path, int extra)
{
	struct k_open_how how = {(uint64_t)(O_PATH | O_CLOEXEC | extra), 0, K_RESOLVE_NO_SYMLINKS};
	return (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
}

/* open_errmsg names what failed to open. */
static const char *open_errmsg(int err)
{
	return err == ELOOP ? "a path component is now a symlink" : strerror(err);
}

static int same_file(int fd, struct file_id want)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	if ((uint64_t)st.st_dev != want.dev || (uint64_t)st.st_ino != want.ino) {
		errno = ESTALE;
		return -1;
	}
	return 0;
}

static const char *same_file_errmsg(void)
{
	return errno == ESTALE ? REPLACED : strerror(errno);
}

/* open_pinned opens path (no symlinks) and checks that it is still the
 * file the server pinned as id; what names the step in the failure. */
static int open_pinned(const char *path, struct file_id id, const char *what)
{
	int fd = open_no_symlinks(path, 0);
	if (fd < 0)
		fail("%s %s: %s", what, path, open_errmsg(errno));
	if (same_file(fd, id) < 0)
		fail("%s %s: %s", what, path, same_file_errmsg());
	return fd;
}

/* old_kernel: use mount(2) instead. The syscall is missing, or a
 * container's seccomp profile refuses the new mount API (EPERM; mount(2)
 * then fails clearly if it is refused too). */
static int old_kernel(long r)
{
	return r < 0 && (errno == ENOSYS || errno == EPERM);
}

static long clone_tree(int fd, const char *path, unsigned flags)
{
	return syscall(SYS_open_tree, fd, path, flags);
}

static long move_mount_onto(int from, int to)
{
	return syscall(SYS_move_mount, from, "", to, "", K_MOVE_MOUNT_F_EMPTY_PATH | K_MOVE_MOUNT_T_EMPTY_PATH);
}

static long set_read_only(int dfd, const char *path, unsigned flags)
{
	struct k_mount_attr attr = {K_MOUNT_ATTR_RDONLY, 0, 0, 0};
	return syscall(SYS_mount_setattr, dfd, path, flags, &attr, sizeof attr);
}

/* remount makes the bind mount at p read-only (or keeps it writable),
 * keeping the flags the kernel locks in a user namespace (nosuid, nodev,
 * noexec, atime), without which it fails with EPERM, and nosymfollow,
 * which it does not lock but a remount without it would drop. */
static int remount(const char *p, int read_only)
{
	static const struct {
		unsigned long st, ms;
	} keep[] = {
		{ST_NOSUID, MS_NOSUID},     {ST_NODEV, MS_NODEV},         {ST_NOEXEC, MS_NOEXEC},
		{ST_NOATIME, MS_NOATIME},   {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME},
		{K_ST_NOSYMFOLLOW, MS_NOSYMFOLLOW},
	};
	struct statfs st;
	if (statfs(p, &st) < 0)
		return -1;
	unsigned long flags = MS_BIND | MS_REMOUNT | (read_only ? MS_RDONLY : 0);
	for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
		if ((unsigned long)st.f_flags & keep[i].st)
			flags |= keep[i].ms;
	return mount("", p, NULL, flags, NULL);
}

/* bind_view bind-mounts p onto itself, read-only or writable (mount(2)). */
static int bind_view(const char *p, int read_only)
{
	if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -1;
	return remount(p, read_only);
}

/* each_mount_read_only makes every mount point of the server's table read-only
 * (the server left out those in the writable roots), with mount_setattr or,
 * legacy, mount(2). A mount point hidden by a later mount, or under a
 * directory we cannot search, is out of the command's reach as well. */
static void each_mount_read_only(struct plan *p, int legacy, const char *why)
{
	if (p->mount_points.n == 0)
		fail("read-only outside writable roots: %s, and the plan has no mount table for the mount-by-mount way "
		     "(the server's probe found the new mount API working: restart the server)",
		     why);
	for (size_t i = 0; i < p->mount_points.n; i++) {
		const char *mp = p->mount_points.v[i];
		long r = legacy ? remount(mp, 1) : set_read_only(AT_FDCWD, mp, AT_SYMLINK_NOFOLLOW);
		if (r < 0 && errno != ENOENT && errno != EACCES && errno != EINVAL)
			fail("read-only outside writable roots: read-only %s: %s", mp, strerror(errno));
	}
}

static void read_only_outside_legacy(struct plan *p, const char *why)
{
	for (size_t i = 0; i < p->nwritable; i++)
		if (mount(p->writable[i].path, p->writable[i].path, NULL, MS_BIND | MS_REC, NULL) < 0)
			fail("read-only outside writable roots: bind writable %s: %s", p->writable[i].path, strerror(errno));
	each_mount_read_only(p, 1, why);
}

/* read_only_outside makes every mount read-only but the keep list's, which
 * are cloned first and put back writable over their read-only originals.
 * It runs before the layout's ops, which then clone from what it leaves: a
 * protected .git in a writable root is cloned from the root's writable
 * clone and made read-only again. */
static void read_only_outside(struct plan *p)
{
	int *clones = calloc(p->nwritable + 1, sizeof *clones);
	if (!clones)
		fail("read-only outside writable roots: out of memory");
	for (size_t i = 0; i < p->nwritable; i++) {
		struct path_id *k = &p->writable[i];
		int fd = open_pinned(k->path, k->id, "read-only outside writable roots: writable");
		long tree = clone_tree(fd, "", K_OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
		close(fd);
		if (old_kernel(tree)) {
			read_only_outside_legacy(p, "open_tree is refused");
			return;
		}
		if (tree < 0)
			fail("read-only outside writable roots: clone writable %s: open_tree: %s", k->path, strerror(errno));
		clones[i] = (int)tree;
	}
	long r = set_read_only(AT_FDCWD, "/", AT_RECURSIVE);
	if (r < 0 && errno == EBUSY)
		/* A mount with a file open for writing cannot turn read-only,
		 * and a recursive change is all or nothing. The helper opens
		 * nothing for writing here (the server opens the call's
		 * cgroup.procs in its own namespace), but whatever else holds
		 * one: mount by mount instead. */
		each_mount_read_only(p, 0, "mount_setattr(/): busy");
	else if (old_kernel(r)) {
		read_only_outside_legacy(p, "mount_setattr is refused");
		return;
	} else if (r < 0)
		fail("read-only outside writable roots: make the mounts under / read-only: %s", strerror(errno));
	for (size_t i = 0; i < p->nwritable; i++) {
		struct path_id *k = &p->writable[i];
		/* The target must still be the file pinned: a concurrent
		 * rename must not redirect the mount. */
		int target = open_pinned(k->path, k->id, "read-only outside writable roots: keep writable");
		if (move_mount_onto(clones[i], target) < 0)
			fail("read-only outside writable roots: keep %s writable: move_mount: %s", k->path, strerror(errno));
		close(target);
		close(clones[i]);
	}
	free(clones);
}

static const char *op_verb(const struct mount_op *op)
{
	if (strcmp(op->kind, "mask") == 0)
		return "deny";
	if (strcmp(op->kind, "rw") == 0)
		return "make writable";
	return "protect";
}

/* make_placeholder creates op->make's directories in turn below the pinned
 * make_in and returns the deepest it made (or found made by a concurrent
 * call), NULL when it could make none: the sandboxed command has our
 * credentials (and fewer capabilities), so it cannot create the name
 * either. Each is made relative to the one before, so that a concurrent
 * rename cannot redirect it. The helper, root of its user namespace, can
 * create in a directory its user made read-only; the server could not. */
static char *make_placeholder(struct mount_op *op)
{
	int dir = open_no_symlinks(op->make_in.path, O_DIRECTORY);
	if (dir < 0)
		fail("protect %s: %s: %s", op->path, op->make_in.path, open_errmsg(errno));
	if (same_file(dir, op->make_in.id) < 0)
		fail("protect %s: %s: %s", op->path, op->make_in.path, same_file_errmsg());
	char *made = NULL, *at = strdup(op->make_in.path);
	for (size_t i = 0; at && i < op->make.n; i++) {
		const char *name = op->make.v[i];
		if (mkdirat(dir, name, 0755) < 0 && errno != EEXIST) {
			/* EEXIST: a concurrent call made it; protect what is there. */
			if (errno == EACCES || errno == EPERM || errno == EROFS)
				break;
			fail("protect %s: create placeholder %s/%s: %s", op->path, at, name, strerror(errno));
		}
		char *next_at;
		if (asprintf(&next_at, "%s/%s", strcmp(at, "/") == 0 ? "" : at, name) < 0)
			fail("protect %s: out of memory", op->path);
		free(at);
		at = next_at;
		int next = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			fail("protect %s: placeholder %s: %s", op->path, at, strerror(errno));
		close(dir);
		dir = next;
		free(made);
		made = strdup(at);
	}
	close(dir);
	free(at);
	return made;
}

/* new_tmpfs makes a detached, owner-writable tmpfs (the helper may hold no
 * capability but CAP_SYS_ADMIN), nosuid, nodev and noexec, from fs, an
 * fsopen("tmpfs") fd, which it consumes. */
static int new_tmpfs(long fs, const char *what)
{
	if (fs < 0)
		fail("%s: fsopen tmpfs: %s (needs Linux 5.12)", what, strerror(errno));
	if (syscall(SYS_fsconfig, (int)fs, K_FSCONFIG_SET_STRING, "mode", "0700", 0) < 0)
		fail("%s: fsconfig tmpfs mode: %s", what, strerror(errno));
	if (syscall(SYS_fsconfig, (int)fs, K_FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		fail("%s: fsconfig tmpfs: %s", what, strerror(errno));
	long mnt = syscall(SYS_fsmount, (int)fs, K_FSMOUNT_CLOEXEC,
			   K_MOUNT_ATTR_NOSUID | K_MOUNT_ATTR_NODEV | K_MOUNT_ATTR_NOEXEC);
	if (mnt < 0)
		fail("%s: fsmount tmpfs: %s", what, strerror(errno));
	close((int)fs);
	return (int)mnt;
}

static long fsopen_tmpfs(void)
{
	return syscall(SYS_fsopen, "tmpfs", K_FSOPEN_CLOEXEC);
}

struct mounter {
	int *orig;     /* O_PATH fd of each op's original, -1 if none */
	struct file_id *id;
	int *applied;  /* each op made */
	int empty;     /* a read-only tmpfs holding one empty file, for file masks (-1: not made yet) */
};

/* view mounts a clone of op's original (with what is mounted below it)
 * over target, read-only or as the original is; with mount(2) where the
 * new API is refused, a bind of the path as it is seen now. */
static void view(struct mounter *m, size_t i, struct mount_op *op, int target, int read_only)
{
	long tree = clone_tree(m->orig[i], "", K_OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
	if (tree >= 0 && read_only && set_read_only((int)tree, "", AT_EMPTY_PATH | AT_RECURSIVE) < 0) {
		int e = errno;
		close((int)tree);
		errno = e;
		if (!old_kernel(-1))
			fail("%s %s: mount_setattr: %s", op_verb(op), op->path, strerror(e));
		tree = -1;
	}
	if (old_kernel(tree)) {
		if (bind_view(op->path, read_only) < 0)
			fail("%s %s: bind mount: %s", op_verb(op), op->path, strerror(errno));
		return;
	}
	if (tree < 0)
		fail("%s %s: open_tree: %s", op_verb(op), op->path, strerror(errno));
	if (move_mount_onto((int)tree, target) < 0)
		fail("%s %s: move_mount: %s", op_verb(op), op->path, strerror(errno));
	close((int)tree);
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* skeleton creates, in the mask's tmpfs mnt (which covers base), the
 * directories leading to keep and an empty directory or file at keep for
 * a later mount to land on. Made directories are set to 0111 afterwards,
 * deepest first: a way through, nothing to list. */
static void skeleton(int mnt, const char *base, const char *keep, int is_file, char ***dirs, size_t *ndirs)
{
	size_t blen = strlen(base);
	if (strcmp(base, "/") == 0)
		blen = 0;
	if (strncmp(keep, base, blen) != 0 || keep[blen] != '/' || keep[blen + 1] == 0 || strstr(keep + blen, "//") ||
	    strstr(keep + blen, "/./") || strstr(keep + blen, "/../") || has_suffix(keep, "/.") || has_suffix(keep, "/.."))
		fail("deny %s: room for %s: not a clean path below it", base, keep);
	char *rel = strdup(keep + blen + 1);
	if (!rel)
		fail("deny %s: out of memory", base);
	for (char *slash = strchr(rel, '/');; slash = strchr(slash + 1, '/')) {
		int last = slash == NULL;
		if (!last)
			*slash = 0;
		if (last && is_file) {
			int fd = openat(mnt, rel, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0);
			if (fd < 0)
				fail("deny %s: room for %s: %s", base, keep, strerror(errno));
			close(fd);
		} else if (mkdirat(mnt, rel, 0700) == 0) {
			char **grown = realloc(*dirs, (*ndirs + 1) * sizeof **dirs);
			if (!grown || !(grown[*ndirs] = strdup(rel)))
				fail("deny %s: out of memory", base);
			*dirs = grown;
			(*ndirs)++;
		} else if (errno != EEXIST) {
			fail("deny %s: room for %s: %s", base, keep, strerror(errno));
		}
		if (last)
			break;
		*slash = '/';
	}
	free(rel);
}

/* mask hides target under an empty, read-only directory (mode 000, or
 * 0111 when later mounts need a way through it) or file. */
static void mask(struct mounter *m, struct mount_op *op, int target)
{
	if (!op->dir) {
		if (op->keep.n > 0)
			fail("deny %s: a file cannot have paths below it", op->path);
		if (m->empty < 0) {
			m->empty = new_tmpfs(fsopen_tmpfs(), "deny a file");
			int fd = openat(m->empty, "empty", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0);
			if (fd < 0)
				fail("deny %s: empty file: %s", op->path, strerror(errno));
			close(fd);
			if (set_read_only(m->empty, "", AT_EMPTY_PATH) < 0)
				fail("deny %s: mount_setattr: %s", op->path, strerror(errno));
		}
		long tree = clone_tree(m->empty, "empty", K_OPEN_TREE_CLONE | O_CLOEXEC);
		if (tree < 0)
			fail("deny %s: open_tree: %s", op->path, strerror(errno));
		if (move_mount_onto((int)tree, target) < 0)
			fail("deny %s: move_mount: %s", op->path, strerror(errno));
		close((int)tree);
		return;
	}
	long fs = fsopen_tmpfs();
	if (old_kernel(fs) && op->keep.n == 0) {
		if (mount("tmpfs", op->path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "mode=0") < 0)
			fail("deny %s: mount tmpfs: %s", op->path, strerror(errno));
		return;
	}
	int mnt = new_tmpfs(fs, op->path);
	if (op->nkeep_file != op->keep.n)
		fail("bad spec: %zu kinds for %zu kept paths", op->nkeep_file, op->keep.n);
	char **dirs = NULL;
	size_t ndirs = 0;
	for (size_t i = 0; i < op->keep.n; i++)
		skeleton(mnt, op->path, op->keep.v[i], op->keep_file[i], &dirs, &ndirs);
	for (size_t i = ndirs; i-- > 0;) {
		if (fchmodat(mnt, dirs[i], 0111, 0) < 0)
			fail("deny %s: chmod %s: %s", op->path, dirs[i], strerror(errno));
		free(dirs[i]);
	}
	free(dirs);
	if (fchmodat(mnt, ".", op->keep.n > 0 ? 0111 : 0, 0) < 0)
		fail("deny %s: chmod: %s", op->path, strerror(errno));
	if (set_read_only(mnt, "", AT_EMPTY_PATH) < 0)
		fail("deny %s: mount_setattr: %s", op->path, strerror(errno));
	if (move_mount_onto(mnt, target) < 0)
		fail("deny %s: move_mount: %s", op->path, strerror(errno));
	close(mnt);
}

/* apply_ops makes the layout's mounts. Every original is opened before
 * anything is mounted, as later mounts hide what they cover, and must be
 * the file the server pinned; each target is opened again at its turn and
 * must still be the same file, unless it lies in a mask made here. */
static void apply_ops(struct plan *p)
{
	size_t n = p->nmounts;
	struct mounter m = {calloc(n + 1, sizeof(int)), calloc(n + 1, sizeof(struct file_id)), calloc(n + 1, sizeof(int)), -1};
	if (!m.orig || !m.id || !m.applied)
		fail("mounts: out of memory");
	for (size_t i = 0; i < n; i++) {
		struct mount_op *op = &p->mounts[i];
		m.orig[i] = -1;
		if (op->make.n == 0) {
			m.id[i] = op->id;
			continue;
		}
		/* The placeholder may be a parent of a missing path: protecting
		 * it keeps the path from being created. */
		op->path = make_placeholder(op);
	}
	/* After the placeholders (on mounts this makes read-only), before the
	 * originals are opened (so that views inside writable roots clone the
	 * writable copies). */
	if (!p->all_writable)
		read_only_outside(p);
	for (size_t i = 0; i < n; i++) {
		struct mount_op *op = &p->mounts[i];
		if (!op->path)
			continue; /* nothing could be created */
		int fd = open_no_symlinks(op->path, 0);
		if (fd < 0 && errno == ENOENT)
			continue; /* gone since the server looked: nothing to protect */
		if (fd < 0)
			fail("%s %s: %s", op_verb(op), op->path, open_errmsg(errno));
		struct stat st;
		if (fstat(fd, &st) < 0)
			fail("%s %s: %s", op_verb(op), op->path, strerror(errno));
		if (op->make.n > 0) {
			m.id[i] = (struct file_id){(uint64_t)st.st_dev, (uint64_t)st.st_ino};
		} else if (same_file(fd, op->id) < 0) {
			fail("%s %s: %s", op_verb(op), op->path, same_file_errmsg());
		}
		m.orig[i] = fd;
	}
	for (size_t i = 0; i < n; i++) {
		struct mount_op *op = &p->mounts[i];
		if (m.orig[i] < 0)
			continue;
		if (op->in_mask < 0 || (size_t)op->in_mask > i)
			fail("bad spec: %s %s in mask %ld", op_verb(op), op->path, op->in_mask);
		int target = open_no_symlinks(op->path, 0);
		if (target < 0)
			fail("%s %s: %s", op_verb(op), op->path, open_errmsg(errno));
		/* In a mask made here the target is the mask's own skeleton
		 * entry; anywhere else it must still be the original. */
		if ((op->in_mask == 0 || !m.applied[op->in_mask - 1]) && same_file(target, m.id[i]) < 0)
			fail("%s %s: %s", op_verb(op), op->path, same_file_errmsg());
		if (strcmp(op->kind, "ro") == 0)
			view(&m, i, op, target, 1);
		else if (strcmp(op->kind, "rw") == 0)
			view(&m, i, op, target, 0);
		else if (strcmp(op->kind, "mask") == 0)
			mask(&m, op, target);
		else
			fail("%s: unknown mount kind %s", op->path, op->kind);
		close(target);
		m.applied[i] = 1;
	}
	for (size_t i = 0; i < n; i++)
		if (m.orig[i] >= 0)
			close(m.orig[i]);
	if (m.empty >= 0)
		close(m.empty);
	free(m.orig);
	free(m.id);
	free(m.applied);
}

/* bind_read_only mounts a read-only clone of the file src over target. */
static int bind_read_only(int src, const char *src_path, int target, const char *target_path)
{
	long tree = clone_tree(src, "", K_OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH);
	if (tree >= 0 && set_read_only((int)tree, "", AT_EMPTY_PATH) < 0) {
		int e = errno;
		close((int)tree);
		errno = e;
		tree = -1;
	}
	if (old_kernel(tree)) {
		if (mount(src_path, target_path, NULL, MS_BIND, NULL) < 0)
			return -1;
		return remount(target_path, 1);
	}
	if (tree < 0)
		return -1;
	long r = move_mount_onto((int)tree, target);
	close((int)tree);
	return r < 0 ? -1 : 0;
}

/* mount_shell mounts the patched Bash read-only over each target, after the
 * layout's mounts: a target the layout hides (under a denied path) is not
 * there any more and is skipped, so a deny still wins. Read-only, because
 * the file may lie in a writable root, and a bind mount below a writable
 * path would otherwise let the call write it through the target's name. */
static void mount_shell(struct plan *p)
{
	if (!p->has_shell)
		return;
	int src = open_no_symlinks(p->shell_source, 0);
	if (src < 0)
		fail("patched Bash %s: %s", p->shell_source, open_errmsg(errno));
	for (size_t i = 0; i < p->shell_targets.n; i++) {
		const char *t = p->shell_targets.v[i];
		int target = open_no_symlinks(t, 0);
		if (target < 0 && (errno == ENOENT || errno == EACCES))
			continue; /* hidden by the layout */
		if (target < 0)
			fail("nested Bash %s: %s", t, open_errmsg(errno));
		if (bind_read_only(src, p->shell_source, target, t) < 0)
			fail("mount the patched Bash %s over %s: %s", p->shell_source, t, strerror(errno));
		close(target);
	}
	close(src);
}

/* mount_proc gives the pid namespace its own /proc, so the call sees only
 * its own processes. */
static int mount_proc(void)
{
	return mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

void setup_mounts(struct plan *p)
{
	if (mount("", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		fail("make / private: %s", strerror(errno));
	apply_ops(p);
	mount_shell(p);
	if (p->proc && mount_proc() < 0)
		fail("mount /proc: %s", strerror(errno));
	char *wd = getcwd(NULL, 0);
	if (wd && chdir(wd) < 0)
		fail("re-enter working directory %s: %s", wd, strerror(errno));
	free(wd);
}

/*
 * probe_mounts is the namespace self-test, on paths that exist everywhere:
 * / made private, a no-symlink open, a read-only bind mount and /proc. It
 * prints what the server needs to know on stdout, one "name: why" line
 * each: "mountapi" when the new mount API is refused (the server then sends
 * its mount table with each plan), "proc" when /proc cannot be mounted
 * (not fatal: see Capabilities.ProcMount).
 */
int probe_mounts(void)
{
	if (mount("", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		fail("make / private: %s", strerror(errno));
	int root = open_no_symlinks("/", 0);
	if (root < 0)
		fail("openat2(/, RESOLVE_NO_SYMLINKS): %s", strerror(errno));
	long tree = clone_tree(root, "", K_OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH);
	const char *refused = NULL;
	if (tree < 0)
		refused = "open_tree";
	else if (set_read_only((int)tree, "", AT_EMPTY_PATH) < 0)
		refused = "mount_setattr";
	else {
		long fs = fsopen_tmpfs();
		if (fs < 0)
			refused = "fsopen";
		else
			close((int)fs);
	}
	if (refused)
		printf("mountapi: %s: %s\n", refused, strerror(errno));
	if (tree >= 0)
		close((int)tree);
	close(root);
	if (bind_view("/", 1) < 0)
		fail("read-only bind mount: %s", strerror(errno));
	if (mount_proc() < 0)
		printf("proc: mount /proc: %s\n", strerror(errno));
	fflush(stdout);
	return 0;
}
