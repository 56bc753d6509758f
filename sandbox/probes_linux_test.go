package sandbox

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// probeMain runs one probe inside the sandbox and prints "ok" or the error:
// status 0 when the operation succeeded, 1 when it failed, 2 on misuse.
func probeMain(args []string) int {
	if len(args) == 0 {
		fmt.Println("usage: probe NAME ARGS...")
		return 2
	}
	err := runProbe(args[0], args[1:])
	if err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Println("ok")
	return 0
}

func runProbe(name string, a []string) error {
	arg := func(i int) string {
		if i < len(a) {
			return a[i]
		}
		return ""
	}
	switch name {
	case "write":
		return os.WriteFile(arg(0), []byte("x"), 0o644)
	case "mkdir":
		return os.Mkdir(arg(0), 0o755)
	case "rename":
		return unix.Rename(arg(0), arg(1)) // no copy fallback: EXDEV shows
	case "read":
		_, err := os.ReadFile(arg(0))
		return err
	case "readx": // the file's content, "x", can be read
		data, err := os.ReadFile(arg(0))
		if err == nil && string(data) != "x" {
			return fmt.Errorf("read %q, not the file's content", data)
		}
		return err
	case "tcp":
		return rawConnect(unix.AF_INET, unix.SOCK_STREAM, arg(0))
	case "udp":
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
		if err != nil {
			return fmt.Errorf("socket: %w", err)
		}
		defer unix.Close(fd)
		addr, err := sockaddr(arg(0))
		if err != nil {
			return err
		}
		return unix.Sendto(fd, []byte("x"), 0, addr)
	case "inet6":
		fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM, 0)
		if err == nil {
			unix.Close(fd)
		}
		return err
	case "io_uring":
		var params [120]byte
		r, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, 4, uintptr(unsafe.Pointer(&params)), 0)
		if errno != 0 {
			return errno
		}
		unix.Close(int(r))
		return nil
	case "ptrace":
		return traceMe()
	case "socketpair":
		return socketpairRights()
	case "escalate":
		return escalateRoundTrip(3)
	case "umount":
		return unix.Unmount(arg(0), unix.MNT_DETACH)
	case "remount-rw":
		return unix.Mount("", arg(0), "", unix.MS_REMOUNT|unix.MS_BIND, "")
	case "kill":
		pid, err := strconv.Atoi(arg(0))
		if err != nil {
			return err
		}
		return unix.Kill(pid, 0)
	}
	return fmt.Errorf("unknown probe %q", name)
}

func sockaddr(hostport string) (*unix.SockaddrInet4, error) {
	ap, err := net.ResolveTCPAddr("tcp4", hostport)
	if err != nil {
		return nil, err
	}
	sa := &unix.SockaddrInet4{Port: ap.Port}
	copy(sa.Addr[:], ap.IP.To4())
	return sa, nil
}

func rawConnect(family, typ int, hostport string) error {
	fd, err := unix.Socket(family, typ, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(fd)
	sa, err := sockaddr(hostport)
	if err != nil {
		return err
	}
	if err := unix.Connect(fd, sa); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	return nil
}

// socketpairRights passes an fd over a fresh unix socketpair.
func socketpairRights() error {
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		return fmt.Errorf("socketpair: %w", err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	if err := unix.Sendmsg(p[0], []byte{0}, unix.UnixRights(0), nil, 0); err != nil {
		return fmt.Errorf("sendmsg: %w", err)
	}
	_, err = recvFD(p[1])
	return err
}

func recvFD(sock int) (int, error) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(sock, buf, oob, 0)
	if err != nil {
		return -1, fmt.Errorf("recvmsg: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return -1, fmt.Errorf("control message: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return -1, fmt.Errorf("rights: %v", err)
	}
	return fds[0], nil
}

// escalateRoundTrip does what the execve wrapper does on the inherited
// datagram socket: send one end of a new stream socketpair in SCM_RIGHTS,
// then talk over the private stream (the test's server end answers).
func escalateRoundTrip(fd int) error {
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socketpair: %w", err)
	}
	defer unix.Close(p[0])
	if err := unix.Sendmsg(fd, []byte{0}, unix.UnixRights(p[1]), nil, 0); err != nil {
		unix.Close(p[1])
		return fmt.Errorf("sendmsg on fd %d: %w", fd, err)
	}
	unix.Close(p[1])
	if _, err := unix.Write(p[0], []byte("ping")); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	buf := make([]byte, 16)
	n, err := unix.Read(p[0], buf)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if string(buf[:n]) != "pong" {
		return errors.New("bad reply " + strconv.Quote(string(buf[:n])))
	}
	return nil
}

// traceMe asks to be traced by the parent (Bash), which seccomp forbids in
// the sandbox. Once it succeeds the calling thread is a tracee: a signal
// delivered to it stops it until the tracer, which is no debugger, waits
// for it, and the Go runtime signals its threads (SIGURG preempts a
// goroutine), which under load did happen before the probe could exit. So
// the thread blocks every signal first and the probe ends on it: the
// goroutine stays locked to it, and nothing unblocks them.
func traceMe() error {
	runtime.LockOSThread()
	var all, old unix.Sigset_t
	for i := range all.Val {
		all.Val[i] = ^all.Val[i] // every bit: every signal
	}
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &all, &old); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("blocking signals: %w", err)
	}
	if _, _, errno := unix.RawSyscall(unix.SYS_PTRACE, unix.PTRACE_TRACEME, 0, 0); errno != 0 {
		// Not traced: the thread may serve others again.
		_ = unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
		runtime.UnlockOSThread()
		return errno
	}
	return nil
}
