package sandbox

import (
	"encoding/binary"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// TestSeccompFilterDecisions runs the assembled filter in x/net/bpf's
// interpreter against seccomp_data records.
func TestSeccompFilterDecisions(t *testing.T) {
	if auditArch == 0 {
		t.Skip("no filter for this architecture")
	}
	const (
		allow = unix.SECCOMP_RET_ALLOW
		deny  = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
		kill  = unix.SECCOMP_RET_KILL_PROCESS
	)
	type call struct {
		name       string
		arch       uint32
		nr         uint32
		arg0, arg1 uint64
	}
	native := func(name string, nr uint32, arg0 uint64) call { return call{name, auditArch, nr, arg0, 0} }
	sock := func(name string, nr uint32, domain, typ uint64) call { return call{name, auditArch, nr, domain, typ} }
	cases := []struct {
		c               call
		offline, online uint32
	}{
		{call{"foreign arch", unix.AUDIT_ARCH_I386, unix.SYS_WRITE, 0, 0}, kill, kill},
		{native("write", unix.SYS_WRITE, 0), allow, allow},
		{native("ptrace", unix.SYS_PTRACE, 0), deny, deny},
		{native("process_vm_readv", unix.SYS_PROCESS_VM_READV, 0), deny, deny},
		{native("process_vm_writev", unix.SYS_PROCESS_VM_WRITEV, 0), deny, deny},
		{native("io_uring_setup", unix.SYS_IO_URING_SETUP, 0), deny, deny},
		{native("io_uring_enter", unix.SYS_IO_URING_ENTER, 0), deny, deny},
		{native("io_uring_register", unix.SYS_IO_URING_REGISTER, 0), deny, deny},
		{sock("socket(AF_UNIX, STREAM)", unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_STREAM), allow, allow},
		{sock("socket(AF_UNIX, STREAM|CLOEXEC|NONBLOCK)", unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK), allow, allow},
		{sock("socket(AF_UNIX, SEQPACKET)", unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_SEQPACKET), allow, allow},
		{sock("socket(AF_UNIX, DGRAM)", unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_DGRAM), deny, allow},
		{sock("socket(AF_UNIX, DGRAM|CLOEXEC)", unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC), deny, allow},
		{sock("socket(AF_UNIX, RAW)", unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_RAW), deny, allow},
		{sock("socket(AF_UNIX, STREAM, junk in high bits)", unix.SYS_SOCKET, unix.AF_UNIX, 1<<32|unix.SOCK_STREAM), allow, allow},
		{sock("socket(AF_UNIX, DGRAM, junk in high bits)", unix.SYS_SOCKET, unix.AF_UNIX, 1<<32|unix.SOCK_DGRAM), deny, allow},
		{native("socket(AF_INET)", unix.SYS_SOCKET, unix.AF_INET), deny, allow},
		{native("socket(AF_INET6)", unix.SYS_SOCKET, unix.AF_INET6), deny, allow},
		{native("socket(AF_NETLINK)", unix.SYS_SOCKET, unix.AF_NETLINK), deny, allow},
		{native("socket(AF_INET, junk in high bits)", unix.SYS_SOCKET, 1<<32|unix.AF_INET), deny, allow},
		{sock("socketpair(AF_UNIX, STREAM)", unix.SYS_SOCKETPAIR, unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC), allow, allow},
		{sock("socketpair(AF_UNIX, SEQPACKET)", unix.SYS_SOCKETPAIR, unix.AF_UNIX, unix.SOCK_SEQPACKET), allow, allow},
		{sock("socketpair(AF_UNIX, DGRAM)", unix.SYS_SOCKETPAIR, unix.AF_UNIX, unix.SOCK_DGRAM), deny, allow},
		{native("socketpair(AF_INET)", unix.SYS_SOCKETPAIR, unix.AF_INET), deny, allow},
		{native("connect", unix.SYS_CONNECT, 0), deny, allow},
		{native("bind", unix.SYS_BIND, 0), deny, allow},
		{native("listen", unix.SYS_LISTEN, 0), deny, allow},
		{native("accept", unix.SYS_ACCEPT, 0), deny, allow},
		{native("accept4", unix.SYS_ACCEPT4, 0), deny, allow},
		{native("sendto", unix.SYS_SENDTO, 0), deny, allow},
		{native("sendmmsg", unix.SYS_SENDMMSG, 0), deny, allow},
		{native("recvmmsg", unix.SYS_RECVMMSG, 0), deny, allow},
		{native("getsockopt", unix.SYS_GETSOCKOPT, 0), deny, allow},
		{native("setsockopt", unix.SYS_SETSOCKOPT, 0), deny, allow},
		{native("getpeername", unix.SYS_GETPEERNAME, 0), peerDenied, allow},
		{native("getsockname", unix.SYS_GETSOCKNAME, 0), deny, allow},
		{native("shutdown", unix.SYS_SHUTDOWN, 0), deny, allow},
		{native("sendmsg", unix.SYS_SENDMSG, 0), allow, allow},
		{native("recvmsg", unix.SYS_RECVMSG, 0), allow, allow},
		{native("recvfrom", unix.SYS_RECVFROM, 0), allow, allow},
	}
	if x32Bit != 0 {
		cases = append(cases, struct {
			c               call
			offline, online uint32
		}{native("x32 write", x32Bit|1, 0), deny, deny})
	}
	for _, network := range []bool{false, true} {
		raw, err := seccompFilter(network, false)
		if err != nil {
			t.Fatal(err)
		}
		prog, ok := bpf.Disassemble(raw)
		if !ok {
			t.Fatal("filter does not disassemble")
		}
		vm, err := bpf.NewVM(prog)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range cases {
			// The interpreter loads words big-endian (packet order),
			// the kernel native-endian: lay out each 32-bit word the
			// filter reads so that both see the same value.
			data := make([]byte, 64)
			binary.BigEndian.PutUint32(data[offNr:], tc.c.nr)
			binary.BigEndian.PutUint32(data[offArch:], tc.c.arch)
			binary.BigEndian.PutUint32(data[offArg0:], uint32(tc.c.arg0))
			binary.BigEndian.PutUint32(data[offArg0+4:], uint32(tc.c.arg0>>32))
			binary.BigEndian.PutUint32(data[offArg1:], uint32(tc.c.arg1))
			binary.BigEndian.PutUint32(data[offArg1+4:], uint32(tc.c.arg1>>32))
			got, err := vm.Run(data)
			if err != nil {
				t.Fatalf("%s: %v", tc.c.name, err)
			}
			want := tc.offline
			if network {
				want = tc.online
			}
			if uint32(got) != want {
				t.Errorf("network=%v %s: action %#x, want %#x", network, tc.c.name, uint32(got), want)
			}
		}
	}
}

// TestFilterBytes: the program the server assembles reaches the helper as
// the kernel's sock_filter array (u16 code, u8 jt, u8 jf, u32 k, in the
// machine's byte order), unchanged. The helper refuses a cut or missing
// one (TestSpareRejectsBadActivation).
func TestFilterBytes(t *testing.T) {
	for _, network := range []bool{false, true} {
		raw, err := seccompFilter(network, true)
		if err != nil {
			t.Fatal(err)
		}
		b := filterBytes(raw)
		if len(b) != len(raw)*sockFilterSize {
			t.Fatalf("network=%v: %d bytes for %d instructions", network, len(b), len(raw))
		}
		for i, ins := range raw {
			at := b[i*sockFilterSize:]
			got := unix.SockFilter{Code: binary.NativeEndian.Uint16(at), Jt: at[2], Jf: at[3], K: binary.NativeEndian.Uint32(at[4:])}
			if want := (unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}); got != want {
				t.Errorf("network=%v: instruction %d = %+v, want %+v", network, i, got, want)
			}
		}
	}
}

// BenchmarkAttachFilters is what assembling a call's two programs costs
// the server (done per call, not cached: it is microseconds).
func BenchmarkAttachFilters(b *testing.B) {
	h := helperSpec{Mode: WorkspaceWrite, Namespaces: true, Gate: true}
	for b.Loop() {
		if err := h.attachFilters(); err != nil {
			b.Fatal(err)
		}
	}
}
