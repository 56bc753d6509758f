/*
 * execgate-nsexec: start the sandbox helper in new user, mount and pid
 * namespaces, so that the server does not have to.
 *
 *     execgate-nsexec HELPER [ARG...]
 *
 * Go cannot vfork a child that gets a new user namespace: os/exec then
 * copies the whole server (page tables, and copy-on-write faults after), for
 * every call. The server instead vforks this small static program, which
 * clones the child into the new namespaces (a cheap fork: almost nothing is
 * mapped here), writes the child's uid and gid maps from outside (root maps
 * every id of its namespace to itself, anyone else only their own uid and
 * gid, with setgroups denied: what sandbox/command_linux.go asks os/exec
 * for when it creates the namespaces itself), and lets the child exec HELPER
 * as pid 1 of the new pid namespace with CAP_SYS_ADMIN kept as an ambient
 * capability (the helper mounts, then clears it before it starts Bash).
 *
 * This process stays as the child's parent: the server started it, waits
 * for it and signals it. It passes on every signal the server may send the
 * helper, and exits as the helper did (the same status, or killed by the
 * same signal). It holds no file beyond stdio: the helper's files (the
 * escalate socket or a spare's control socket, fd 3) are the child's only.
 * The child dies with it (parent-death signal), as it dies with the server.
 *
 * Any failure before HELPER runs prints one line and exits 125, the
 * helper's own status for "the sandbox could not be set up".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdint.h>

#define EXIT_SETUP 125

/* The signals the server (and the helper's supervisor) may send. */
static const int relayed[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2, SIGCONT};
#define NRELAYED (sizeof relayed / sizeof relayed[0])

static volatile pid_t child;

static void fail(const char *fmt, ...)
{
	char buf[512];
	int n = snprintf(buf, sizeof buf, "execgate sandbox: ");
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof buf - n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	(void)!write(2, buf, n);
	_exit(EXIT_SETUP);
}

static void relay(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, data, len);
	int saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)len ? 0 : -1;
}

/*
 * id_map is the map to write for our own ids (file is /proc/self/uid_map or
 * gid_map): as root, every range of our namespace mapped to itself, so that
 * files keep their owners; otherwise just id. At most 340 lines, the
 * kernel's limit.
 */
static size_t id_map(const char *file, unsigned id, char *out, size_t cap)
{
	size_t n = 0;
	if (geteuid() == 0) {
		FILE *f = fopen(file, "re");
		if (f) {
			unsigned long inside, outside, count;
			int lines = 0;
			while (lines < 340 && fscanf(f, "%lu %lu %lu", &inside, &outside, &count) == 3) {
				int w = snprintf(out + n, cap - n, "%lu %lu %lu\n", inside, inside, count);
				if (w < 0 || (size_t)w >= cap - n) {
					n = 0;
					break;
				}
				n += w;
				lines++;
			}
			fclose(f);
		}
	}
	if (n == 0)
		n = snprintf(out, cap, "%u %u 1\n", id, id);
	return n;
}

static void write_maps(pid_t pid)
{
	char path[64], map[340 * 36];
	size_t n;

	n = id_map("/proc/self/uid_map", getuid(), map, sizeof map);
	snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
	if (write_file(path, map, n) < 0)
		fail("write %s: %s", path, strerror(errno));
	snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
	if (write_file(path, "deny", 4) < 0 && errno != ENOENT)
		fail("write %s: %s", path, strerror(errno));
	n = id_map("/proc/self/gid_map", getgid(), map, sizeof map);
	snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
	if (write_file(path, map, n) < 0)
		fail("write %s: %s", path, strerror(errno));
}

/*
 * The capget/capset ABI, from the kernel's linux/capability.h, declared here
 * because musl (which makes the launcher start in a quarter of glibc's CPU,
 * see build_nsexec in scripts/build-bash.sh) ships no kernel headers. It is
 * version 3: two 32-bit words per set; CAP_SYS_ADMIN (21) is in the first.
 */
#define CAPS_VERSION_3 0x20080522
#define CAP_SYS_ADMIN_NR 21
struct caps_header {
	uint32_t version;
	int pid;
};
struct caps_data {
	uint32_t effective, permitted, inheritable;
};

/* keep_sys_admin makes CAP_SYS_ADMIN survive execve as an ambient capability. */
static void keep_sys_admin(void)
{
	struct caps_header hdr = {CAPS_VERSION_3, 0};
	struct caps_data data[2];
	if (syscall(SYS_capget, &hdr, data) < 0)
		fail("capget: %s", strerror(errno));
	data[0].inheritable |= UINT32_C(1) << CAP_SYS_ADMIN_NR;
	if (syscall(SYS_capset, &hdr, data) < 0)
		fail("capset: %s", strerror(errno));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN_NR, 0, 0) < 0)
		fail("raise ambient CAP_SYS_ADMIN: %s", strerror(errno));
}

static void run_child(int ready, const sigset_t *mask, char **argv)
{
	char b;
	ssize_t n;
	/* Dies with its parent, as the server asked for that parent. A parent
	 * gone before this point closed the pipe: the read below sees EOF (as
	 * pid 1 of a new namespace the child cannot ask getppid). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fail("prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
	do
		n = read(ready, &b, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(EXIT_SETUP); /* the parent failed; it said why */
	close(ready);
	keep_sys_admin();
	sigprocmask(SIG_SETMASK, mask, NULL);
	execv(argv[0], argv);
	fail("exec %s: %s", argv[0], strerror(errno));
}

int main(int argc, char **argv)
{
	if (argc < 2 || argv[1][0] != '/')
		fail("usage: execgate-nsexec /PATH/OF/HELPER [ARG...] (started by the execgate server)");

	/* Signals wait until the child exists; their dispositions are restored in it. */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);

	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		fail("pipe: %s", strerror(errno));
	pid_t pid = syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0)
		fail("create user, mount and pid namespaces: %s", strerror(errno));
	if (pid == 0) {
		close(p[1]);
		run_child(p[0], &old, argv + 1);
	}
	close(p[0]);
	child = pid;
	write_maps(pid);
	if (write(p[1], "x", 1) != 1)
		fail("start the helper: %s", strerror(errno));
	close(p[1]);

	/* Nothing of the helper's stays open here: fd 3 (a spare's control
	 * socket) must close when the helper exits. */
	if (syscall(SYS_close_range, 3, ~0U, 0) < 0) {
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = relay;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < NRELAYED; i++)
		sigaction(relayed[i], &sa, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);

	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			fail("wait for the helper: %s", strerror(errno));
	}
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		signal(sig, SIG_DFL);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		kill(getpid(), sig);
		_exit(128 + sig);
	}
	return WEXITSTATUS(status);
}
