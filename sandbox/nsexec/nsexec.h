/* What the launcher's parts (nsexec.c, helper.c, mounts.c) share. */
#ifndef EXECGATE_NSEXEC_H
#define EXECGATE_NSEXEC_H

#include "plan.h"

/* Exit statuses of the helper itself (Bash's own status passes through). */
#define EXIT_SETUP 125    /* the sandbox could not be set up: nothing ran */
#define EXIT_NOEXEC 126   /* the program exists but could not be executed */
#define EXIT_NOTFOUND 127 /* the program was not found */

/* The helper's roles, named on the launcher's command line. */
enum role {
	ROLE_SPARE,            /* --spare: say ready, then wait for a call */
	ROLE_START,            /* --start: the call's activation is queued */
	ROLE_PROBE_LAUNCHER,   /* --probe-launcher: exit 0 */
	ROLE_PROBE_NAMESPACES, /* --probe-namespaces: the namespace self-test */
};

/* fail prints "execgate sandbox: MSG" on stderr and exits EXIT_SETUP. */
void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* helper_main runs the helper (helper.c) in the supervisor's child: with
 * namespaces it is pid 2 of the call's, root of its user namespace with
 * every capability there. It returns only an exit status; a call's helper
 * ends in execve. */
int helper_main(enum role role, int namespaces);

/* fds_from closes every fd from first on, or with flags
 * K_CLOSE_RANGE_CLOEXEC marks them close-on-exec (nsexec.c). */
void fds_from(int first, unsigned flags);

/* mounts.c */
void setup_mounts(struct plan *p);
int probe_mounts(void);

#endif
