package security

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/execgate/execgate/internal/disposable"
)

// A container's restrictions, for the server to start under: what a
// container runtime's seccomp profile refuses, inherited by the server and
// everything it starts, the sandbox included.
type container struct {
	// noUserNS refuses user namespaces as a container's default seccomp
	// profile (Docker's, for one) does: clone and unshare fail EPERM when
	// they ask for a new user namespace, clone3 fails ENOSYS (its flags are
	// out of a filter's reach). The server's own probe then finds no
	// namespaces, and every call runs in the two-stage layout of Landlock
	// and seccomp alone, as it does on such machines.
	noUserNS bool
	// noListener refuses a seccomp filter with a user notification
	// listener (EPERM): the kernel gate cannot be installed, while the
	// sandbox's own filters can.
	noListener bool
	// oldMountAPI is a kernel without the new mount API (open_tree,
	// move_mount, fsopen, fsconfig, fsmount, fspick and mount_setattr
	// fail ENOSYS, as before Linux 5.2): the sandbox then makes its
	// mounts with mount(2) alone.
	oldMountAPI bool
	// noMountSetattr is a kernel without mount_setattr alone (ENOSYS, as
	// from Linux 5.2 to 5.11): open_tree works, mount_setattr does not.
	noMountSetattr bool
}

// filter is c's seccomp filter, for the architecture the tests run on.
func (c container) filter() ([]unix.SockFilter, error) {
	var arch uint32
	switch runtime.GOARCH {
	case "amd64":
		arch = unix.AUDIT_ARCH_X86_64
	case "arm64":
		arch = unix.AUDIT_ARCH_AARCH64
	default:
		return nil, fmt.Errorf("no seccomp architecture for %s", runtime.GOARCH)
	}
	const (
		offNr   = 0
		offArch = 4
		offArg0 = 16 // the low 32 bits of args[0] (little-endian)
		offArg1 = 24
		allow   = unix.SECCOMP_RET_ALLOW
		eperm   = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
		enosys  = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	)
	prog := []bpf.Instruction{
		bpf.LoadAbsolute{Off: offArch, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: arch, SkipTrue: 1},
		bpf.RetConstant{Val: allow},
	}
	if c.noUserNS {
		prog = append(prog,
			bpf.LoadAbsolute{Off: offNr, Size: 4},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SYS_CLONE3, SkipFalse: 1},
			bpf.RetConstant{Val: enosys},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SYS_CLONE, SkipTrue: 1},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SYS_UNSHARE, SkipFalse: 3},
			bpf.LoadAbsolute{Off: offArg0, Size: 4},
			bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: unix.CLONE_NEWUSER, SkipFalse: 1},
			bpf.RetConstant{Val: eperm},
		)
	}
	if c.noListener {
		prog = append(prog,
			bpf.LoadAbsolute{Off: offNr, Size: 4},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SYS_SECCOMP, SkipFalse: 5},
			bpf.LoadAbsolute{Off: offArg0, Size: 4},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SECCOMP_SET_MODE_FILTER, SkipFalse: 3},
			bpf.LoadAbsolute{Off: offArg1, Size: 4},
			bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, SkipFalse: 1},
			bpf.RetConstant{Val: eperm},
		)
	}
	var missing []uint32
	if c.oldMountAPI || c.noMountSetattr {
		missing = append(missing, unix.SYS_MOUNT_SETATTR)
	}
	if c.oldMountAPI {
		missing = append(missing, unix.SYS_OPEN_TREE, unix.SYS_MOVE_MOUNT, unix.SYS_FSOPEN, unix.SYS_FSCONFIG, unix.SYS_FSMOUNT, unix.SYS_FSPICK)
	}
	for _, nr := range missing {
		prog = append(prog,
			bpf.LoadAbsolute{Off: offNr, Size: 4},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: nr, SkipFalse: 1},
			bpf.RetConstant{Val: enosys},
		)
	}
	prog = append(prog, bpf.RetConstant{Val: allow})
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("assemble the container filter %+v: %w", c, err)
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, ins := range raw {
		filter[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	return filter, nil
}

// run runs start on a disposable thread that has c's filter (the calling
// one for container{}, which has none): a process start must fork from
// that thread, so that the child (the server) inherits the filter. The
// filter is that thread's alone, and ends with it, so nothing else in the
// test binary runs under it.
func (c container) run(start func() error) error {
	if c == (container{}) {
		return start()
	}
	filter, err := c.filter()
	if err != nil {
		return err
	}
	return disposable.Thread(func() error {
		// no_new_privs lets an unprivileged test install a filter; as
		// root, the server does not get it.
		if unix.Geteuid() != 0 {
			if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
				return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
			}
		}
		prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
		// Without SECCOMP_FILTER_FLAG_TSYNC: this thread only.
		_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&prog)))
		runtime.KeepAlive(filter)
		if errno != 0 {
			return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER) for the container filter %+v: %w", c, errno)
		}
		return start()
	})
}
