//go:build linux && amd64

package sandbox

import "golang.org/x/sys/unix"

const (
	auditArch = unix.AUDIT_ARCH_X86_64
	x32Bit    = 0x40000000 // __X32_SYSCALL_BIT
)

// chmodCalls are the syscalls that set a file's mode, with the offset of
// their mode argument in struct seccomp_data.
var chmodCalls = []modeArg{
	{unix.SYS_CHMOD, offArg1},
	{unix.SYS_FCHMOD, offArg1},
	{unix.SYS_FCHMODAT, offArg2},
	{unix.SYS_FCHMODAT2, offArg2},
}
