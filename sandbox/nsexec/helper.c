/*
 * The sandbox helper: the supervisor's child, which takes the call's
 * activation off the control socket (fd 3), applies the plan the server
 * made (mounts, Landlock, seccomp, the kernel gate, the process bound) and
 * execs the program. It decides nothing the server could decide ahead:
 * paths come resolved and pinned (dev, ino), the Landlock ruleset and both
 * BPF programs come built. See docs/c-helper.md.
 *
 * The control socket is a SOCK_SEQPACKET pair (sandbox/control_linux.go):
 * a spare sends 'R' once it waits; the server sends one activation, 'A'
 * with SCM_RIGHTS holding a sealed memfd with the plan, the Landlock
 * ruleset (a sandboxed call), the call's cgroup.procs (a bounded one), then
 * stdin, stdout, stderr and, optionally, the escalate socket. A helper asked
 * for the kernel gate answers 'G' with the listener, or 'N' and why there
 * is none, just before it execs.
 */
#define _GNU_SOURCE
#include "nsexec.h"
#include "kabi.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CTL 3
#define MSG_READY 'R'
#define MSG_ACTIVATION 'A'
#define MSG_GATE 'G'
#define MSG_NO_GATE 'N'
#define MAX_GATE_WHY 1024
/* The plan memfd, the ruleset, cgroup.procs, stdin, stdout, stderr, the
 * escalate socket. */
#define MAX_FILES 7
/* Far above any real plan, low enough that a bad fd cannot exhaust us. */
#define MAX_PLAN (64 << 20)

/* receive_activation waits for the activation and returns the plan's
 * bytes; the files after the plan go to files. It returns NULL when the
 * server closed the socket without one: it no longer needs this spare. */
static char *receive_activation(size_t *len, int *files, size_t *nfiles)
{
	char buf[2];
	union {
		char b[CMSG_SPACE(MAX_FILES * sizeof(int))];
		struct cmsghdr align;
	} oob;
	struct iovec iov = {buf, sizeof buf};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = oob.b, .msg_controllen = sizeof oob.b};
	ssize_t n;
	do
		n = recvmsg(CTL, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		fail("spare: receive the activation: %s", strerror(errno));
	int fds[MAX_FILES];
	size_t nfds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k && nfds < MAX_FILES; i++)
			memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
	if (n == 0 && nfds == 0)
		return NULL;
	if ((m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || n != 1 || buf[0] != MSG_ACTIVATION || nfds == 0)
		fail("spare: malformed activation message (%zd bytes, %zu files)", n, nfds);

	struct stat st;
	if (fstat(fds[0], &st) < 0)
		fail("spare: activation memfd: %s", strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_PLAN)
		fail("spare: activation memfd: not a plan (mode %o, %lld bytes)", (unsigned)st.st_mode, (long long)st.st_size);
	char *b = malloc(st.st_size + 1);
	if (!b)
		fail("spare: activation of %lld bytes: out of memory", (long long)st.st_size);
	for (off_t got = 0; got < st.st_size;) {
		ssize_t r = pread(fds[0], b + got, st.st_size - got, got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			fail("spare: read the activation memfd: %lld of %lld bytes: %s", (long long)got, (long long)st.st_size,
			     r < 0 ? strerror(errno) : "end of file");
		got += r;
	}
	close(fds[0]);
	*len = st.st_size;
	*nfiles = nfds - 1;
	memcpy(files, fds + 1, *nfiles * sizeof(int));
	return b;
}

/* take_files moves the call's files onto fds 0, 1, 2 and, with a fourth
 * (the escalate socket), 3, which replaces the control socket (closed
 * otherwise). They are inherited across exec. */
static void take_files(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = fds[i] == (int)i ? fcntl(fds[i], F_SETFD, 0) : dup3(fds[i], (int)i, 0);
		if (r < 0)
			fail("spare: move fd %d to %zu: %s", fds[i], i, strerror(errno));
	}
	if (n == 3)
		close(CTL);
	for (size_t i = 0; i < n; i++)
		if (fds[i] != (int)i)
			close(fds[i]);
}

/* check_filter refuses a missing or cut BPF program: a sandboxed program
 * never runs unfiltered, and a bad gate program must not pass for a kernel
 * without the gate. */
static void check_filter(size_t len, const char *what)
{
	if (len == 0)
		fail("bad spec: %s: no program", what);
	if (len % sizeof(struct k_sock_filter))
		fail("bad spec: %s: %zu bytes is not a whole number of %zu-byte instructions", what, len,
		     sizeof(struct k_sock_filter));
	if (len / sizeof(struct k_sock_filter) > K_BPF_MAXINSNS)
		fail("bad spec: %s: %zu instructions, more than the kernel's %d", what, len / sizeof(struct k_sock_filter),
		     K_BPF_MAXINSNS);
}

static long load_filter(const unsigned char *prog, size_t len, unsigned long flags)
{
	struct k_sock_fprog fprog = {(unsigned short)(len / sizeof(struct k_sock_filter)), (struct k_sock_filter *)prog};
	return syscall(SYS_seccomp, K_SECCOMP_SET_MODE_FILTER, flags, &fprog);
}

/* confine restricts this process, and everything it starts, with the
 * Landlock ruleset and the seccomp program the server built. One thread:
 * no TSYNC is needed. */
static void confine(struct plan *p, int ruleset)
{
	if (!p->confine)
		return;
	if (!p->landlock || ruleset < 0)
		fail("bad spec: a sandboxed call without its Landlock ruleset");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail("prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
	if (syscall(SYS_landlock_restrict_self, ruleset, (unsigned)p->landlock_flags) < 0)
		fail("landlock_restrict_self(ruleset fd %d, flags %#lx): %s", ruleset, p->landlock_flags, strerror(errno));
	close(ruleset);
	/* With namespaces everything outside the writable roots is mounted
	 * read-only; without, the filter also refuses setuid and setgid bits,
	 * the closest protection there. */
	if (load_filter(p->seccomp, p->seccomp_len, 0) < 0)
		fail("seccomp(SECCOMP_SET_MODE_FILTER): %s", strerror(errno));
}

/* send_gate_report sends 'G' with listener, or (listener -1) 'N' and why. */
static void send_gate_report(int sock, const char *why, int listener)
{
	char msg[1 + MAX_GATE_WHY];
	size_t n = 1;
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} oob;
	struct iovec iov = {msg, 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	if (listener >= 0) {
		msg[0] = MSG_GATE;
		m.msg_control = oob.b;
		m.msg_controllen = sizeof oob.b;
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &listener, sizeof(int));
	} else {
		msg[0] = MSG_NO_GATE;
		size_t w = strlen(why);
		if (w > MAX_GATE_WHY)
			w = MAX_GATE_WHY;
		memcpy(msg + 1, why, w);
		n += w;
	}
	iov.iov_len = n;
	ssize_t r;
	do
		r = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		fail("report the kernel gate on the control socket (fd %d): %s", sock, strerror(errno));
}

/* report_gate installs the kernel gate the plan asks for and tells the
 * server what came of it (status, the control socket kept apart, -1 when
 * no report is owed). Without an escalate socket (fd 3) nobody would
 * answer a notification, and there is no gate. */
static void report_gate(struct plan *p, int status)
{
	if (status < 0)
		return;
	int fd3 = fcntl(3, F_GETFD);
	if (!p->confine) {
		send_gate_report(status, "danger-full-access: there is no sandbox to start programs in", -1);
	} else if (fd3 < 0 || (fd3 & FD_CLOEXEC)) {
		send_gate_report(status, "no escalate socket to answer the program starts", -1);
	} else {
		/* WAIT_KILLABLE_RECV (Linux 5.19): once the server has taken a
		 * notification, only a fatal signal interrupts the exec, rather
		 * than any signal restarting it as a new question. */
		long listener = load_filter(p->gate_filter, p->gate_filter_len,
					    K_SECCOMP_FILTER_FLAG_NEW_LISTENER | K_SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
		if (listener < 0 && errno == EINVAL)
			listener = load_filter(p->gate_filter, p->gate_filter_len, K_SECCOMP_FILTER_FLAG_NEW_LISTENER);
		if (listener < 0) {
			char why[128];
			snprintf(why, sizeof why, "seccomp(SECCOMP_SET_MODE_FILTER, NEW_LISTENER): %s", strerror(errno));
			send_gate_report(status, why, -1);
		} else {
			send_gate_report(status, NULL, (int)listener);
			close((int)listener);
		}
	}
	close(status);
}

/* enter_bound puts this process, just before the exec, into the call's
 * pids cgroup (cgroup: its cgroup.procs, opened by the server) and under
 * RLIMIT_NPROC, which the program cannot raise again. The supervisor stays
 * outside, so a full cgroup cannot keep the call from ending. */
static void enter_bound(struct plan *p, int cgroup)
{
	if (cgroup >= 0) {
		if (write(cgroup, "0", 1) != 1)
			fail("join the call's pids cgroup %s: %s", p->pids_cgroup, strerror(errno));
		close(cgroup);
	}
	if (p->max_procs > 0 && p->namespaces && p->nproc) {
		struct rlimit lim = {(rlim_t)p->max_procs, (rlim_t)p->max_procs};
		if (setrlimit(RLIMIT_NPROC, &lim) < 0)
			fail("setrlimit(RLIMIT_NPROC, %ld): %s", p->max_procs, strerror(errno));
	}
}

static int probe_namespaces(int namespaces)
{
	if (!namespaces || getpid() != 2 || getppid() != 1)
		fail("not in a new pid namespace");
	return probe_mounts();
}

int helper_main(enum role role, int namespaces)
{
	switch (role) {
	case ROLE_PROBE_LAUNCHER:
		return 0;
	case ROLE_PROBE_NAMESPACES:
		return probe_namespaces(namespaces);
	case ROLE_SPARE: {
		/* Ready: the server pools a spare only after this. A helper
		 * started for a call sends nothing: the server, which has closed
		 * its end, would leave it unread, and a socket closed with an
		 * unread message resets its peer before the activation is read. */
		char r = MSG_READY;
		if (send(CTL, &r, 1, MSG_NOSIGNAL) != 1)
			return 0; /* the server has gone or given up on this spare */
		break;
	}
	case ROLE_START:
		break;
	}

	size_t len, nfiles;
	int files[MAX_FILES];
	char *b = receive_activation(&len, files, &nfiles);
	if (!b)
		return 0;
	struct plan p;
	char err[256];
	if (plan_decode(b, len, &p, err, sizeof err) < 0)
		fail("spare: bad activation: %s", err);

	size_t k = 0;
	int ruleset = -1, cgroup = -1, status = -1;
	if (p.landlock && k < nfiles)
		ruleset = files[k++];
	if (p.pids_cgroup[0] && k < nfiles)
		cgroup = files[k++];
	if (nfiles - k != 3 && nfiles - k != 4)
		fail("spare: activation with %zu files for the call, want 3 or 4", nfiles - k);
	if (p.gate) {
		/* Kept apart from fds 0-3, where the call's files go. */
		status = fcntl(CTL, F_DUPFD_CLOEXEC, 4);
		if (status < 0)
			fail("spare: keep the control socket: %s", strerror(errno));
	}
	/* The call's files now, so that any error below reaches its output. */
	take_files(files + k, nfiles - k);
	if (p.argv.n == 0)
		fail("spare: activation without a command");
	if (p.dir[0] && chdir(p.dir) < 0)
		fail("working directory: chdir %s: %s", p.dir, strerror(errno));

	if (p.namespaces && (getpid() != 2 || getppid() != 1))
		/* Only the launcher's namespace clone puts us there; without it
		 * nothing would kill what the call leaves behind. */
		fail("spec says namespaces, but this helper is not the child of pid 1 of a new pid namespace");
	if (p.confine) {
		check_filter(p.seccomp_len, "seccomp filter");
		if (p.gate)
			check_filter(p.gate_filter_len, "kernel gate filter");
	}
	/* Whatever the server leaked by mistake stops here: the program gets
	 * only stdio and the escalate socket. */
	fds_from(4, K_CLOSE_RANGE_CLOEXEC);
	if (p.pids_cgroup[0] && cgroup < 0)
		fail("bad spec: a bounded call without the cgroup.procs of its pids cgroup %s", p.pids_cgroup);
	if (!p.namespaces && (p.nmounts > 0 || p.has_shell))
		fail("bad spec: mounts without namespaces");
	if (p.namespaces)
		setup_mounts(&p);
	confine(&p, ruleset);

	/* Inside the user namespace the helper holds every capability; the
	 * program, which the exec may leave an ambient set, must not. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		fail("clear ambient capabilities: %s", strerror(errno));
	report_gate(&p, status);
	enter_bound(&p, cgroup);
	/* The server resolved the program to an absolute path and made the
	 * environment what execve takes (encodePlan). */
	execve(p.argv.v[0], p.argv.v, p.env.v);
	int e = errno;
	fprintf(stderr, "execgate sandbox: exec %s: %s\n", p.argv.v[0], strerror(e));
	return e == ENOENT || e == ENOTDIR ? EXIT_NOTFOUND : EXIT_NOEXEC;
}
