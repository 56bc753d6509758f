package sandbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Offsets into struct seccomp_data.
const (
	offNr   = 0
	offArch = 4
	offArg0 = 16 // low 32 bits on little-endian machines
	offArg1 = 24
	offArg2 = 32
)

// modeArg names a syscall and where its mode argument is.
type modeArg struct {
	nr  uint32
	off uint32
}

// setidBits are the mode bits a sandbox without a read-only mount view
// may not set: Landlock does not confine chmod, and a setuid file the
// command's user owns, outside the writable roots, is what an escape needs.
const setidBits = unix.S_ISUID | unix.S_ISGID

// sockTypeMask keeps the type of socket(2)'s second argument without the
// SOCK_NONBLOCK and SOCK_CLOEXEC flags.
const sockTypeMask = 0xf

// alwaysDenied syscalls let a process reach into another (ptrace,
// process_vm_*) or open sockets without socket(2) (io_uring).
var alwaysDenied = []uint32{
	unix.SYS_PTRACE,
	unix.SYS_PROCESS_VM_READV,
	unix.SYS_PROCESS_VM_WRITEV,
	unix.SYS_IO_URING_SETUP,
	unix.SYS_IO_URING_ENTER,
	unix.SYS_IO_URING_REGISTER,
}

// getpeername is denied too when the network is off, but with ENOTCONN
// rather than EPERM: Bash (isnetconn) takes any other getpeername failure on
// its stdin as "started by rshd/sshd" and then sources ~/.bashrc even for a
// non-interactive `bash -c`, which changes what the script sees and costs
// tens of milliseconds per call.
const peerDenied = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOTCONN)

// networkDenied syscalls are denied when the network is off. sendmsg and
// recvmsg stay: the escalate protocol passes fds with them over unix
// sockets; recvfrom stays because it cannot reach anything new.
var networkDenied = []uint32{
	unix.SYS_CONNECT,
	unix.SYS_BIND,
	unix.SYS_LISTEN,
	unix.SYS_ACCEPT,
	unix.SYS_ACCEPT4,
	unix.SYS_SENDTO,
	unix.SYS_SENDMMSG,
	unix.SYS_RECVMMSG,
	unix.SYS_GETSOCKOPT,
	unix.SYS_SETSOCKOPT,
	unix.SYS_GETSOCKNAME,
	unix.SYS_SHUTDOWN,
}

// seccompFilter assembles the filter: kill the process on a foreign
// architecture (so i386 int 0x80 cannot sidestep the syscall numbers),
// EPERM for x32 and for the denied syscalls, allow the rest. Without the
// network, socket and socketpair may only make AF_UNIX stream and seqpacket
// sockets: an AF_UNIX datagram socket (SOCK_RAW is one too) sends with
// sendmsg to any pathname socket it names (/dev/log, journald, sd_notify),
// even one end of a connected socketpair does, and sendmsg itself must stay
// for the escalate protocol (a seqpacket socket, which ignores addresses).
// Stream and seqpacket sockets reach nothing without connect, denied here.
// With noSetid, chmod and its variants may not set the setuid or setgid
// bit (for a helper without namespaces, whose filesystem outside the
// writable roots is not mounted read-only).
func seccompFilter(network, noSetid bool) ([]bpf.RawInstruction, error) {
	if auditArch == 0 {
		return nil, fmt.Errorf("seccomp filter: architecture %s is not supported", runtime.GOARCH)
	}
	const (
		allow = unix.SECCOMP_RET_ALLOW
		deny  = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
		kill  = unix.SECCOMP_RET_KILL_PROCESS
	)
	denied := append([]uint32(nil), alwaysDenied...)
	if !network {
		denied = append(denied, networkDenied...)
	}
	var sockets []uint32
	if !network {
		sockets = []uint32{unix.SYS_SOCKET, unix.SYS_SOCKETPAIR}
	}

	// Layout: header, one jump per denied/socket syscall, then the fixed
	// tail [allow, deny, socket check...]. Jump offsets are computed from
	// the distance to the tail.
	prog := []bpf.Instruction{
		bpf.LoadAbsolute{Off: offArch, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: auditArch, SkipTrue: 1},
		bpf.RetConstant{Val: kill},
		bpf.LoadAbsolute{Off: offNr, Size: 4},
	}
	if x32Bit != 0 {
		// x32 syscalls share the x86_64 audit arch but set this bit.
		prog = append(prog,
			bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: x32Bit, SkipFalse: 1},
			bpf.RetConstant{Val: deny},
		)
	}
	if !network {
		prog = append(prog,
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SYS_GETPEERNAME, SkipFalse: 1},
			bpf.RetConstant{Val: peerDenied},
		)
	}
	if noSetid {
		for _, c := range chmodCalls {
			prog = append(prog,
				bpf.JumpIf{Cond: bpf.JumpEqual, Val: c.nr, SkipFalse: 4},
				bpf.LoadAbsolute{Off: c.off, Size: 4},
				bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: setidBits, SkipFalse: 1},
				bpf.RetConstant{Val: deny},
				bpf.RetConstant{Val: allow}, // no chmod is in denied
			)
		}
	}
	n := len(denied) + len(sockets)
	// Tail positions relative to the first instruction after the jumps.
	const tailAllow, tailDeny, tailSocket = 0, 1, 2
	for i, nr := range denied {
		skip := n - i - 1 + tailDeny
		if skip > 255 {
			return nil, errors.New("seccomp filter: too many syscalls")
		}
		prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: nr, SkipTrue: uint8(skip)})
	}
	for i, nr := range sockets {
		skip := len(sockets) - i - 1 + tailSocket
		prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: nr, SkipTrue: uint8(skip)})
	}
	prog = append(prog,
		bpf.RetConstant{Val: allow},
		bpf.RetConstant{Val: deny},
		// tailSocket: AF_UNIX with a stream or seqpacket type only.
		bpf.LoadAbsolute{Off: offArg0, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.AF_UNIX, SkipTrue: 1},
		bpf.RetConstant{Val: deny},
		bpf.LoadAbsolute{Off: offArg1, Size: 4},
		bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: sockTypeMask},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SOCK_STREAM, SkipTrue: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.SOCK_SEQPACKET, SkipTrue: 1},
		bpf.RetConstant{Val: deny},
		bpf.RetConstant{Val: allow},
	)
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("seccomp filter: %w", err)
	}
	return raw, nil
}

// attachFilters assembles the seccomp programs the helper loads: the main
// filter for a sandboxed mode (noSetid without namespaces) and the kernel
// gate's when the spec asks for one. The server assembles them and the
// helper only loads what it is given, so that the helper, which starts for
// every call, does no assembling and links no assembler.
func (h *helperSpec) attachFilters() error {
	if h.Mode == DangerFullAccess {
		return nil // no sandbox, no filter; the gate says why it is absent
	}
	raw, err := seccompFilter(h.Network, !h.Namespaces)
	if err != nil {
		return err
	}
	h.Seccomp = filterBytes(raw)
	if h.Gate {
		if raw, err = gateFilter(); err != nil {
			return err
		}
		h.GateFilter = filterBytes(raw)
	}
	return nil
}

// sockFilterSize is the size of the kernel's struct sock_filter: u16 code,
// u8 jt, u8 jf, u32 k, in the machine's byte order.
const sockFilterSize = 8

// maxFilterLen is the kernel's BPF_MAXINSNS.
const maxFilterLen = 4096

// filterBytes is a program as the array of struct sock_filter the kernel
// reads.
func filterBytes(raw []bpf.RawInstruction) []byte {
	b := make([]byte, 0, len(raw)*sockFilterSize)
	for _, ins := range raw {
		b = binary.NativeEndian.AppendUint16(b, ins.Op)
		b = append(b, ins.Jt, ins.Jf)
		b = binary.NativeEndian.AppendUint32(b, ins.K)
	}
	return b
}

// seccompAvailable reports whether filters with the kill-process action
// can be installed.
func seccompAvailable() error {
	if auditArch == 0 {
		return fmt.Errorf("no seccomp filter for architecture %s", runtime.GOARCH)
	}
	if _, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_GET_SECCOMP): %w (kernel built without CONFIG_SECCOMP?)", err)
	}
	action := uint32(unix.SECCOMP_RET_KILL_PROCESS)
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_ACTION_AVAIL, 0, uintptr(unsafe.Pointer(&action)))
	if errno != 0 {
		return fmt.Errorf("seccomp(SECCOMP_GET_ACTION_AVAIL): %w (kernel without CONFIG_SECCOMP_FILTER or older than 4.14?)", errno)
	}
	return nil
}
