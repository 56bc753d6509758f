/*
 * The kernel interfaces the sandbox helper uses that musl, which ships no
 * kernel headers, does not declare. Each name has a K_ prefix so that
 * kabi_check.c can include this beside the kernel's own headers and assert
 * that every value and layout is the kernel's (TestKernelABIHeader).
 * Syscall numbers come from musl's <sys/syscall.h>.
 */
#ifndef EXECGATE_KABI_H
#define EXECGATE_KABI_H

#include <stdint.h>

/* openat2(2): linux/openat2.h */
struct k_open_how {
	uint64_t flags, mode, resolve;
};
#define K_RESOLVE_NO_SYMLINKS 0x04

/* The mount API of Linux 5.2 and 5.12: linux/mount.h */
#define K_OPEN_TREE_CLONE 1
#define K_MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define K_MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#define K_FSOPEN_CLOEXEC 0x00000001
#define K_FSCONFIG_SET_STRING 1
#define K_FSCONFIG_CMD_CREATE 6
#define K_FSMOUNT_CLOEXEC 0x00000001
#define K_MOUNT_ATTR_RDONLY 0x00000001
#define K_MOUNT_ATTR_NOSUID 0x00000002
#define K_MOUNT_ATTR_NODEV 0x00000004
#define K_MOUNT_ATTR_NOEXEC 0x00000008
struct k_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

/* statfs's flag of a nosymfollow mount (Linux 5.10): linux/statfs.h */
#define K_ST_NOSYMFOLLOW 0x2000 /* not in the uapi headers: include/linux/statfs.h */

/* close_range(2): linux/close_range.h */
#define K_CLOSE_RANGE_CLOEXEC (1U << 2)

/* seccomp(2) and classic BPF: linux/seccomp.h, linux/filter.h */
#define K_SECCOMP_SET_MODE_FILTER 1
#define K_SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#define K_SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
struct k_sock_filter {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};
struct k_sock_fprog {
	unsigned short len;
	struct k_sock_filter *filter;
};
#define K_BPF_MAXINSNS 4096

#endif
