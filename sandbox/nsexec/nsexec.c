/*
 * execgate-nsexec: start the sandbox helper for a call and supervise what
 * the call runs, so that neither the server nor a Go process has to.
 *
 *     execgate-nsexec --ns|--no-ns --spare|--start
 *     execgate-nsexec --ns|--no-ns --probe-namespaces|--probe-launcher
 *
 * With --ns the call gets new user, mount and pid namespaces. Go cannot
 * vfork a child that gets a new user namespace: os/exec then copies the
 * whole server (page tables, and copy-on-write faults after), for every
 * call. The server instead vforks this small static program, which clones
 * a child into the new namespaces (a cheap fork: almost nothing is mapped
 * here) and writes the child's uid and gid maps from outside: root maps
 * every id of its namespace to itself, anyone else only their own uid and
 * gid, with setgroups denied. That child is pid 1 of the call's pid
 * namespace, the supervisor below; it never execs. This process stays as
 * its parent: the server started it, waits for it and signals it. It
 * passes on every signal the server may send and exits as pid 1 did. It
 * holds no file beyond stdio: the helper's (the control socket, fd 3) are
 * the child's only. The child dies with it (parent-death signal), as it
 * dies with the server.
 *
 * With --no-ns this process is itself the supervisor, as a child
 * subreaper.
 *
 * The supervisor forks the helper (helper.c), which takes the call off the
 * control socket, mounts (with --ns, as root of the call's user namespace),
 * confines itself and execs Bash; --probe-* are the server's self-tests.
 * The supervisor stays outside the call's Landlock domain, so the call can
 * neither signal nor ptrace it, and does what the call's end needs: it
 * reaps every orphan that lands on it, relays signals to the program,
 * exits with the program's status (128+N if signal N killed it), and on
 * SIGTERM ends the call at once with 128+SIGTERM. As pid 1 it leaves the
 * killing of what is left to the kernel; as a subreaper it kills its
 * descendants itself, setsid'd background jobs included. It starts no
 * thread and reads nothing of the call.
 *
 * Any failure before the program runs prints one line and exits 125, the
 * status for "the sandbox could not be set up".
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nsexec.h"

/* The signals the server may send and the supervisor passes on to the
 * program. SIGTERM is not among them: it ends the call. */
static const int relayed[] = {SIGINT, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2, SIGCONT};
#define NRELAYED (sizeof relayed / sizeof relayed[0])

static volatile pid_t child;

void fail(const char *fmt, ...)
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

/* caught only so that sigwaitinfo can take it: pid 1 of a pid namespace
 * gets no signal whose disposition is the default one. */
static void caught(int sig)
{
	(void)sig;
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

/* fds_from closes every fd from first on (flags 0), or marks them
 * close-on-exec (K_CLOSE_RANGE_CLOEXEC). Before Linux 5.9 (5.11 for
 * marking) there is no close_range: one call per fd in /proc/self/fd. */
void fds_from(int first, unsigned flags)
{
	if (syscall(SYS_close_range, (unsigned)first, ~0U, flags) == 0)
		return;
	if (errno != ENOSYS && errno != EINVAL)
		fail("close_range(%d, ~0, %#x): %s", first, flags, strerror(errno));
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		fail("list open fds in /proc/self/fd: %s", strerror(errno));
	struct dirent *e;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (fd < first || fd == dirfd(d) || !isdigit((unsigned char)e->d_name[0]))
			continue;
		if (flags)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
		else
			close(fd);
	}
	closedir(d);
}

/* reap_exited reaps every child that has exited, orphans included, without
 * waiting. It returns 1 once pid is among them (its status in *status), -1
 * when no child is left at all, 0 otherwise. */
static int reap_exited(pid_t pid, int *status)
{
	int found = 0;
	for (;;) {
		int ws;
		pid_t w = waitpid(-1, &ws, WNOHANG);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return found ? 1 : -1; /* ECHILD */
		if (w == 0)
			return found;
		if (w == pid) {
			*status = WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);
			found = 1;
		}
	}
}

/* parent_of reads the parent pid of process name (a /proc entry) from its
 * stat line: the fourth field, counted after the name's closing ')'. */
static pid_t parent_of(const char *name)
{
	char path[300], buf[512];
	snprintf(path, sizeof path, "/proc/%s/stat", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *end = strrchr(buf, ')');
	int ppid;
	if (!end || sscanf(end + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

/*
 * list_children puts our children, zombies included, in kids (at most
 * max). With one thread, ours are the children of the task whose id is our
 * pid. A kernel built without CONFIG_PROC_CHILDREN has no such list; then
 * every process's parent is looked up in /proc.
 */
static int list_children(pid_t *kids, int max)
{
	char path[64];
	int n = 0;
	snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
	FILE *f = fopen(path, "re");
	if (f) {
		int k;
		while (n < max && fscanf(f, "%d", &k) == 1)
			kids[n++] = k;
		fclose(f);
		return n;
	}
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	pid_t self = getpid();
	struct dirent *e;
	while (n < max && (e = readdir(d))) {
		if (isdigit((unsigned char)e->d_name[0]) && parent_of(e->d_name) == self)
			kids[n++] = atoi(e->d_name);
	}
	closedir(d);
	return n;
}

/* kill_descendants kills our children until none is left. Killing a
 * child reparents its own children to us (we are their subreaper), so
 * repeating reaches every descendant, however it detached itself. */
static void kill_descendants(void)
{
	pid_t kids[1024];
	int status;
	for (int round = 0; round < 10000; round++) {
		if (reap_exited(0, &status) < 0)
			return; /* no child left: the common case, in one syscall */
		int n = list_children(kids, sizeof kids / sizeof kids[0]);
		if (n == 0)
			return;
		for (int i = 0; i < n; i++)
			kill(kids[i], SIGKILL);
		/* Wait for these very pids, so that each is known gone. */
		for (int i = 0; i < n; i++)
			while (waitpid(kids[i], NULL, 0) < 0 && errno == EINTR)
				;
	}
}

/*
 * supervise forks the helper in role and waits for it and for what it
 * execs, as described at the top: init says we are pid 1 of the call's
 * namespaces. Every signal is blocked on entry; old is the mask to restore
 * in the helper.
 */
static int supervise(enum role role, const sigset_t *old, int init)
{
	if (!init && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		fail("prctl(PR_SET_CHILD_SUBREAPER): %s", strerror(errno));
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = caught;
	sigfillset(&sa.sa_mask);
	sigset_t wait;
	sigemptyset(&wait);
	for (size_t i = 0; i < NRELAYED; i++) {
		/* A signal our parent ignores stays ignored for the program. */
		struct sigaction cur;
		if (sigaction(relayed[i], NULL, &cur) == 0 && cur.sa_handler == SIG_IGN)
			continue;
		sigaction(relayed[i], &sa, NULL);
		sigaddset(&wait, relayed[i]);
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaddset(&wait, SIGTERM);
	sigaction(SIGCHLD, &sa, NULL);
	sigaddset(&wait, SIGCHLD);

	pid_t pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
			fail("prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
		/* The helper dies of what would have killed the program. */
		sa.sa_handler = SIG_DFL;
		for (int sig = 1; sig < NSIG; sig++)
			if (sigismember(&wait, sig))
				sigaction(sig, &sa, NULL);
		sigprocmask(SIG_SETMASK, old, NULL);
		_exit(helper_main(role, init));
	}
	/* Nothing of ours for the call to read: no core, no ptrace by the
	 * call's user, /proc/PID files owned by root. Set after the fork: the
	 * helper, which does not exec before the program does, must stay
	 * readable to the server, which reads the program start the kernel
	 * gate stops (the helper's own execve) from its memory. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* The control socket (fd 3) is the helper's alone: the server must
	 * see it close when the helper is done with it. */
	fds_from(3, 0);

	int status = EXIT_SETUP;
	for (;;) {
		int sig = sigwaitinfo(&wait, NULL);
		if (sig < 0) {
			if (errno == EINTR)
				continue;
			fail("wait for a signal: %s", strerror(errno));
		}
		if (sig == SIGCHLD) {
			int r = reap_exited(pid, &status);
			if (r == 0)
				continue;
			if (r < 0) /* gone unreaped, which nothing here does */
				fail("wait for the helper: no child left");
			break;
		}
		if (sig == SIGTERM) {
			status = 128 + SIGTERM;
			break;
		}
		kill(pid, sig);
	}
	if (!init)
		kill_descendants();
	return status;
}

static void run_pid1(int ready, const sigset_t *old, enum role role)
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
	_exit(supervise(role, old, 1));
}

static void usage(int argc, char **argv)
{
	char got[256] = "";
	for (int i = 1, n = 0; i < argc && n < (int)sizeof got; i++)
		n += snprintf(got + n, sizeof got - n, "%s%s", i > 1 ? " " : "", argv[i]);
	fail("usage: execgate-nsexec --ns|--no-ns --spare|--start|--probe-namespaces|--probe-launcher, not \"%s\" "
	     "(started by the execgate server; a server that starts it otherwise is from another build: run make bash)",
	     got);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *arg;
		enum role role;
	} roles[] = {
		{"--spare", ROLE_SPARE},
		{"--start", ROLE_START},
		{"--probe-launcher", ROLE_PROBE_LAUNCHER},
		{"--probe-namespaces", ROLE_PROBE_NAMESPACES},
	};
	if (argc != 3)
		usage(argc, argv);
	int ns;
	if (strcmp(argv[1], "--ns") == 0)
		ns = 1;
	else if (strcmp(argv[1], "--no-ns") == 0)
		ns = 0;
	else
		usage(argc, argv);
	size_t r = 0;
	while (r < sizeof roles / sizeof roles[0] && strcmp(argv[2], roles[r].arg) != 0)
		r++;
	if (r == sizeof roles / sizeof roles[0])
		usage(argc, argv);
	enum role helper = roles[r].role;

	/* Signals wait until the child exists; their dispositions are
	 * restored in it. */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);

	if (!ns)
		return supervise(helper, &old, 0);

	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		fail("pipe: %s", strerror(errno));
	pid_t pid = syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0)
		fail("create user, mount and pid namespaces: %s", strerror(errno));
	if (pid == 0) {
		close(p[1]);
		run_pid1(p[0], &old, helper);
	}
	close(p[0]);
	child = pid;
	write_maps(pid);
	if (write(p[1], "x", 1) != 1)
		fail("start the helper: %s", strerror(errno));
	close(p[1]);

	/* Nothing of the helper's stays open here: fd 3 (the control socket)
	 * must close when the helper is done with it. */
	fds_from(3, 0);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = relay;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < NRELAYED; i++)
		sigaction(relayed[i], &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);

	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			fail("wait for the call's pid 1: %s", strerror(errno));
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
