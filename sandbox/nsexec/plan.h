/*
 * The plan: what the server decided for one call, as the helper applies it.
 * The server (Go, sandbox/specwire.go: encodePlan) is its only encoder and
 * plan.c its only decoder; both list the fields in the same order.
 */
#ifndef EXECGATE_PLAN_H
#define EXECGATE_PLAN_H

#include <stddef.h>
#include <stdint.h>

/* A file's identity: the server pinned it, the helper must find it. */
struct file_id {
	uint64_t dev, ino;
};

struct path_id {
	char *path;
	struct file_id id;
};

/* A list of strings, v[n] == NULL. */
struct strs {
	size_t n;
	char **v;
};

/* One mount of the layout (sandbox/layout.go: mountOp). */
struct mount_op {
	char *path;
	char *kind; /* "ro", "rw" or "mask" */
	struct strs keep;
	struct file_id id;
	int dir;
	struct path_id make_in;
	struct strs make;
	long in_mask;  /* 1 + the index of the mask the target lies in, or 0 */
	int *keep_file; /* one per keep entry: a file, not a directory */
	size_t nkeep_file;
};

struct plan {
	int confine; /* a sandboxed mode: Landlock and seccomp (not danger-full-access) */
	struct mount_op *mounts;
	size_t nmounts;
	int has_shell;
	char *shell_source;
	struct strs shell_targets;
	int namespaces, proc, gate;
	long max_procs;
	char *pids_cgroup; /* "" when the call has no pids cgroup */
	int nproc;
	int landlock;
	long landlock_flags;
	int all_writable;
	struct path_id *writable;
	size_t nwritable;
	/* Every mount point outside the writable roots, parents first, for the
	 * read-only pass with mount(2): sent only where the probe found the new
	 * mount API refused. */
	struct strs mount_points;
	unsigned char *seccomp, *gate_filter;
	size_t seccomp_len, gate_filter_len;
	struct strs argv, env;
	char *dir;
};

/* The first field of every plan. */
#define PLAN_TAG "plan1"

/* plan_decode reads the plan in b (n bytes). On error it returns -1 with a
 * message in err. */
int plan_decode(const char *b, size_t n, struct plan *p, char *err, size_t errcap);

#endif
