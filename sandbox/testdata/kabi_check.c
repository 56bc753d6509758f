/*
 * kabi_check: nsexec/kabi.h against the kernel's own headers (linux-libc-dev),
 * compiled by TestKernelABIHeader: every value and layout the helper
 * declares for itself must be the kernel's, or this does not compile.
 */
#include <stddef.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>

#include "../nsexec/kabi.h"

#define SAME(a, b) _Static_assert((a) == (b), #a " is not " #b)
#define SAME_LAYOUT(k, s, f) \
	_Static_assert(offsetof(struct k, f) == offsetof(struct s, f) && \
			       sizeof(((struct k *)0)->f) == sizeof(((struct s *)0)->f), \
		       #k "." #f " is not " #s "." #f)

SAME(K_RESOLVE_NO_SYMLINKS, RESOLVE_NO_SYMLINKS);
SAME(sizeof(struct k_open_how), sizeof(struct open_how));
SAME_LAYOUT(k_open_how, open_how, flags);
SAME_LAYOUT(k_open_how, open_how, mode);
SAME_LAYOUT(k_open_how, open_how, resolve);

SAME(K_OPEN_TREE_CLONE, OPEN_TREE_CLONE);
SAME(K_MOVE_MOUNT_F_EMPTY_PATH, MOVE_MOUNT_F_EMPTY_PATH);
SAME(K_MOVE_MOUNT_T_EMPTY_PATH, MOVE_MOUNT_T_EMPTY_PATH);
SAME(K_FSOPEN_CLOEXEC, FSOPEN_CLOEXEC);
SAME(K_FSCONFIG_SET_STRING, FSCONFIG_SET_STRING);
SAME(K_FSCONFIG_CMD_CREATE, FSCONFIG_CMD_CREATE);
SAME(K_FSMOUNT_CLOEXEC, FSMOUNT_CLOEXEC);
SAME(K_MOUNT_ATTR_RDONLY, MOUNT_ATTR_RDONLY);
SAME(K_MOUNT_ATTR_NOSUID, MOUNT_ATTR_NOSUID);
SAME(K_MOUNT_ATTR_NODEV, MOUNT_ATTR_NODEV);
SAME(K_MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOEXEC);
SAME(sizeof(struct k_mount_attr), sizeof(struct mount_attr));
SAME_LAYOUT(k_mount_attr, mount_attr, attr_set);
SAME_LAYOUT(k_mount_attr, mount_attr, attr_clr);
SAME_LAYOUT(k_mount_attr, mount_attr, propagation);
SAME_LAYOUT(k_mount_attr, mount_attr, userns_fd);

SAME(K_CLOSE_RANGE_CLOEXEC, CLOSE_RANGE_CLOEXEC);

SAME(K_SECCOMP_SET_MODE_FILTER, SECCOMP_SET_MODE_FILTER);
SAME(K_SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_FILTER_FLAG_NEW_LISTENER);
SAME(K_SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
SAME(sizeof(struct k_sock_filter), sizeof(struct sock_filter));
SAME_LAYOUT(k_sock_filter, sock_filter, code);
SAME_LAYOUT(k_sock_filter, sock_filter, jt);
SAME_LAYOUT(k_sock_filter, sock_filter, jf);
SAME_LAYOUT(k_sock_filter, sock_filter, k);
SAME(sizeof(struct k_sock_fprog), sizeof(struct sock_fprog));
SAME_LAYOUT(k_sock_fprog, sock_fprog, len);
SAME_LAYOUT(k_sock_fprog, sock_fprog, filter);
SAME(K_BPF_MAXINSNS, BPF_MAXINSNS);

int main(void)
{
	return 0;
}
