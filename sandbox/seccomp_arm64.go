//go:build linux && arm64

package sandbox

import "golang.org/x/sys/unix"

const (
	auditArch = unix.AUDIT_ARCH_AARCH64
	x32Bit    = 0 // no x32-like ABI on arm64
)

// chmodCalls are the syscalls that set a file's mode, with the offset of
// their mode argument in struct seccomp_data.
var chmodCalls = []modeArg{
	{unix.SYS_FCHMOD, offArg1},
	{unix.SYS_FCHMODAT, offArg2},
	{unix.SYS_FCHMODAT2, offArg2},
}
