package engine

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel side of the kernel gate: receiving a call's seccomp
// notifications, reading what the stopped process asked to execute, and
// answering. What the answer is lives in gate_linux.go.

// seccompNotif is struct seccomp_notif.
type seccompNotif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Data  struct {
		Nr   int32
		Arch uint32
		IP   uint64
		Args [6]uint64
	}
}

// seccompNotifResp is struct seccomp_notif_resp.
type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// seccompIoctlNotifIDValid is SECCOMP_IOCTL_NOTIF_ID_VALID (_IOW('!', 2, __u64)).
const seccompIoctlNotifIDValid = 0x40082102

// Limits on what is read from a stopped process: a path, and the argument
// vector of a program some rule names.
const (
	maxPathRead = unix.PathMax
	maxArgs     = 4096
	maxArgBytes = 1 << 20
)

// notifListener is a call's seccomp listener, parked in the Go netpoller so
// that waiting for a notification holds no thread.
type notifListener struct {
	f  *os.File
	rc syscall.RawConn
}

// newNotifListener takes over f.
func newNotifListener(f *os.File) (*notifListener, error) {
	// A copy made non-blocking: only a descriptor that was non-blocking
	// when its File was made is parked in the poller. The listener is
	// ours alone, so its flags are ours to change.
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("kernel gate: listener: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("kernel gate: listener: %w", err)
	}
	nf := os.NewFile(uintptr(fd), "seccomp-listener")
	rc, err := nf.SyscallConn()
	if err != nil {
		nf.Close()
		return nil, fmt.Errorf("kernel gate: listener: %w", err)
	}
	return &notifListener{f: nf, rc: rc}, nil
}

// errGateClosed: every process under the gate has exited (or the listener
// was closed); no notification can come.
var errGateClosed = errors.New("kernel gate: no process left under the gate")

// receive waits for the next notification.
func (l *notifListener) receive(n *seccompNotif) error {
	var err error
	rerr := l.rc.Read(func(fd uintptr) bool {
		// The ioctl blocks whatever the file's flags say: ask poll first.
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		k, perr := unix.Poll(pfd, 0)
		switch {
		case perr == unix.EINTR || perr == nil && k == 0:
			return false
		case perr != nil:
			err = perr
			return true
		case pfd[0].Revents&unix.POLLIN == 0:
			err = errGateClosed // POLLHUP: the filter has no user left
			return true
		}
		*n = seccompNotif{}
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, fd, unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(n)))
		switch errno {
		case 0:
		case unix.EINTR, unix.ENOENT:
			// ENOENT: the process was killed between poll and receive.
			return false
		default:
			err = errno
		}
		return true
	})
	if rerr != nil {
		return rerr
	}
	return err
}

// answer lets the exec continue (errno 0) or fails it with errno.
func (l *notifListener) answer(id uint64, errno syscall.Errno) error {
	resp := seccompNotifResp{ID: id}
	if errno == 0 {
		resp.Flags = unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE
	} else {
		resp.Error = -int32(errno)
	}
	var err error
	cerr := l.rc.Control(func(fd uintptr) {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, fd, unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp)))
		if e != 0 && e != unix.ENOENT { // ENOENT: the process is gone
			err = e
		}
	})
	if cerr != nil {
		return cerr
	}
	return err
}

// valid says whether notification id still waits for its answer: the
// process has not died, so what was read from its pid was read from it.
func (l *notifListener) valid(id uint64) bool {
	ok := false
	_ = l.rc.Control(func(fd uintptr) {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, fd, seccompIoctlNotifIDValid, uintptr(unsafe.Pointer(&id)))
		ok = e == 0
	})
	return ok
}

// stop makes a waiting receive return.
func (l *notifListener) stop() { l.f.SetReadDeadline(time.Unix(1, 0)) }

func (l *notifListener) Close() error { return l.f.Close() }

// execCall is what one notification asks: the path as the process passed
// it, and where it is relative to.
type execCall struct {
	pid  int
	path string
	// dirfd is execveat's directory (unix.AT_FDCWD for execve), flags its
	// flags.
	dirfd int
	flags int
	argv  uint64 // address of the argument vector in the process
}

// readExecCall reads the path of the exec n stopped.
func readExecCall(n *seccompNotif) (execCall, error) {
	c := execCall{pid: int(n.Pid), dirfd: unix.AT_FDCWD}
	pathAddr := n.Data.Args[0]
	c.argv = n.Data.Args[1]
	if n.Data.Nr == unix.SYS_EXECVEAT {
		c.dirfd = int(int32(n.Data.Args[0]))
		pathAddr = n.Data.Args[1]
		c.argv = n.Data.Args[2]
		c.flags = int(n.Data.Args[4])
	}
	var err error
	c.path, err = readString(c.pid, pathAddr, maxPathRead)
	return c, err
}

// readString reads a NUL-terminated string of at most max bytes at addr in
// process pid, page by page (a string may end just before an unmapped
// page).
func readString(pid int, addr uint64, max int) (string, error) {
	var out []byte
	var page [4096]byte
	for len(out) < max {
		n := 4096 - int(addr%4096)
		got, err := readMem(pid, addr, page[:n])
		if err != nil {
			return "", err
		}
		if i := bytes.IndexByte(page[:got], 0); i >= 0 {
			return string(append(out, page[:i]...)), nil
		}
		out = append(out, page[:got]...)
		addr += uint64(got)
	}
	return "", fmt.Errorf("string at %#x in process %d is longer than %d bytes", addr, pid, max)
}

func readMem(pid int, addr uint64, buf []byte) (int, error) {
	local := []unix.Iovec{{Base: &buf[0], Len: uint64(len(buf))}}
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(buf)}}
	n, err := unix.ProcessVMReadv(pid, local, remote, 0)
	if err != nil {
		return 0, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	if n == 0 {
		return 0, fmt.Errorf("read memory of process %d at %#x: nothing read", pid, addr)
	}
	return n, nil
}

// readArgv reads the argument vector at addr in process pid.
func readArgv(pid int, addr uint64) ([]string, error) {
	var argv []string
	total := 0
	var ptr [8]byte
	for i := 0; ; i++ {
		if i >= maxArgs {
			return nil, fmt.Errorf("more than %d arguments", maxArgs)
		}
		if _, err := readFull(pid, addr+uint64(8*i), ptr[:]); err != nil {
			return nil, err
		}
		p := *(*uint64)(unsafe.Pointer(&ptr[0]))
		if p == 0 {
			return argv, nil
		}
		s, err := readString(pid, p, maxArgBytes-total)
		if err != nil {
			return nil, err
		}
		total += len(s) + 1
		argv = append(argv, s)
	}
}

func readFull(pid int, addr uint64, buf []byte) (int, error) {
	done := 0
	for done < len(buf) {
		n, err := readMem(pid, addr+uint64(done), buf[done:])
		if err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}

// procPath is the path, in this process's view, of the file c names, as
// the stopped process sees it: through its root, its working directory or
// execveat's directory.
func (c execCall) procPath() string {
	proc := "/proc/" + strconv.Itoa(c.pid)
	switch {
	case c.path == "" && c.flags&unix.AT_EMPTY_PATH != 0:
		return proc + "/fd/" + strconv.Itoa(c.dirfd)
	case filepath.IsAbs(c.path):
		return proc + "/root" + c.path
	case c.dirfd == unix.AT_FDCWD:
		return proc + "/cwd/" + c.path
	}
	return proc + "/fd/" + strconv.Itoa(c.dirfd) + "/" + c.path
}

// file is the absolute path c names, as the stopped process names it (what
// rules match): a relative path joined to its working directory or to
// execveat's directory, read from /proc.
func (c execCall) file() (string, error) {
	proc := "/proc/" + strconv.Itoa(c.pid)
	switch {
	case c.path == "" && c.flags&unix.AT_EMPTY_PATH != 0:
		return os.Readlink(proc + "/fd/" + strconv.Itoa(c.dirfd))
	case filepath.IsAbs(c.path):
		return filepath.Clean(c.path), nil
	}
	dir := proc + "/cwd"
	if c.dirfd != unix.AT_FDCWD {
		dir = proc + "/fd/" + strconv.Itoa(c.dirfd)
	}
	d, err := os.Readlink(dir)
	if err != nil {
		return "", err
	}
	return filepath.Join(d, c.path), nil
}

// workdir is the stopped process's working directory.
func (c execCall) workdir() string {
	d, _ := os.Readlink("/proc/" + strconv.Itoa(c.pid) + "/cwd")
	return d
}

// resolved is the file c runs with every symbolic link followed, "" when
// c's own name is final (the usual case, one lstat).
func (c execCall) resolved() string {
	p := c.procPath()
	fi, err := os.Lstat(p)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		return ""
	}
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		return ""
	}
	return r
}

// writeStderr writes msg on the standard error of process pid (a thread
// id is taken to its process), which it gets with pidfd_getfd.
func writeStderr(pid int, msg string) error {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
		// A thread other than the leader (a Go program execs from any
		// thread): its process is its thread group.
		if tgid := threadGroup(pid); tgid > 0 {
			pidfd, err = unix.PidfdOpen(tgid, 0)
		}
	}
	if err != nil {
		return fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(pidfd)
	fd, err := unix.PidfdGetfd(pidfd, 2, 0)
	if err != nil {
		return fmt.Errorf("pidfd_getfd %d 2: %w", pid, err)
	}
	defer unix.Close(fd)
	_, err = unix.Write(fd, []byte(msg))
	return err
}

func threadGroup(tid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("Tgid:")); ok {
			n, _ := strconv.Atoi(string(bytes.TrimSpace(v)))
			return n
		}
	}
	return 0
}
