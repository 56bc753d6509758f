package sandbox

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// TestGateFilter runs the kernel gate's filter in the BPF interpreter:
// execs go to the listener, a new listener is refused, the rest passes.
func TestGateFilter(t *testing.T) {
	if auditArch == 0 {
		t.Skip("no filter for this architecture")
	}
	const (
		allow  = unix.SECCOMP_RET_ALLOW
		notify = unix.SECCOMP_RET_USER_NOTIF
		deny   = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	)
	cases := []struct {
		name       string
		arch, nr   uint32
		arg0, arg1 uint32
		want       uint32
	}{
		{"execve", auditArch, unix.SYS_EXECVE, 0, 0, notify},
		{"execveat", auditArch, unix.SYS_EXECVEAT, 0, 0, notify},
		{"getpid", auditArch, unix.SYS_GETPID, 0, 0, allow},
		{"seccomp new listener", auditArch, unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, deny},
		{"seccomp listener among flags", auditArch, unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC, deny},
		{"seccomp plain filter", auditArch, unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, allow},
		{"seccomp action query", auditArch, unix.SYS_SECCOMP, unix.SECCOMP_GET_ACTION_AVAIL, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, allow},
		{"foreign arch (the main filter kills it)", 0x40000003, unix.SYS_EXECVE, 0, 0, allow},
	}
	raw, err := gateFilter()
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
		// Big-endian words: see TestSeccompFilterDecisions.
		data := make([]byte, 64)
		binary.BigEndian.PutUint32(data[offNr:], tc.nr)
		binary.BigEndian.PutUint32(data[offArch:], tc.arch)
		binary.BigEndian.PutUint32(data[offArg0:], tc.arg0)
		binary.BigEndian.PutUint32(data[offArg1:], tc.arg1)
		got, err := vm.Run(data)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if uint32(got) != tc.want {
			t.Errorf("%s: action %#x, want %#x", tc.name, uint32(got), tc.want)
		}
	}
}

// TestListenerProbeLeavesNoTrace: the probe that makes a seccomp listener
// succeeds here, and its filter and no_new_privs stay on the thread it
// threw away: no thread of this process is left with either (the server's
// escalated commands must not inherit them).
func TestListenerProbeLeavesNoTrace(t *testing.T) {
	if err := gateAvailable(); err != nil {
		t.Skip(err)
	}
	if err := listenerAllowed(); err != nil {
		t.Fatalf("listenerAllowed: %v", err)
	}
	var marked []string
	// The thrown-away thread exits just after the probe returns.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		marked = marked[:0]
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/status")
			if err != nil {
				continue // exited meanwhile
			}
			for _, line := range strings.Split(string(b), "\n") {
				if f := strings.Fields(line); len(f) == 2 && (f[0] == "Seccomp:" || f[0] == "NoNewPrivs:") && f[1] != "0" {
					marked = append(marked, task.Name()+" "+line)
				}
			}
		}
		if len(marked) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("threads left with the probe's filter or no_new_privs: %v", marked)
		}
	}
}

// TestGateReportedToOnGate: a call that asks for the kernel gate gets its
// listener through Proc.OnGate, once, from a spare
// and from a helper started for it, with and without namespaces. Its program starts wait for the listener's
// answer. Without OnGate the listener is closed, and the program does not
// start. A danger-full-access call, and a call without an escalate socket,
// get a reason instead.
func TestGateReportedToOnGate(t *testing.T) {
	if err := gateAvailable(); err != nil {
		t.Skip(err)
	}
	if err := listenerAllowed(); err != nil {
		t.Skip(err)
	}
	for name, l := range spareLaunchers(t) {
		for _, pooled := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/pooled=%v", name, pooled), func(t *testing.T) {
				ws := t.TempDir()
				spec := Spec{Policy: Policy{Mode: WorkspaceWrite}, Workspace: ws, KernelGate: true}
				start := func(p Proc) (*exec.Cmd, error) {
					if pooled {
						l.Prepare(spec)
						idleSpare(t, l, spec)
					}
					cmd, err := l.Start(context.Background(), spec, []string{"/bin/sh", "-c", "/bin/true"}, p)
					if err == nil && usedSpare(cmd) != pooled {
						t.Errorf("spare used: %v, want %v", usedSpare(cmd), pooled)
					}
					return cmd, err
				}
				esc := escalateSocket(t)

				reports := make(chan Gate, 2)
				onGate := func(g Gate) { reports <- g }
				cmd, err := start(Proc{Dir: ws, Extra: esc, OnGate: onGate})
				if err != nil {
					t.Fatal(err)
				}
				got := []Gate{<-reports}
				if got[0].Listener == nil {
					t.Fatalf("reported %+v, want a listener", got[0])
				}
				served := make(chan int, 1)
				go func() { served <- continueEvery(got[0].Listener) }()
				if err := cmd.Wait(); err != nil {
					t.Fatalf("under the gate: %v", err)
				}
				if n := <-served; n != 2 {
					t.Errorf("answered %d program starts, want 2 (sh and true)", n)
				}
				got[0].Listener.Close()

				cmd, err = start(Proc{Dir: ws, Extra: esc})
				if err != nil {
					t.Fatal(err)
				}
				var ee *exec.ExitError
				if err := cmd.Wait(); !errors.As(err, &ee) || ee.ExitCode() != exitNoExec {
					t.Errorf("without OnGate: %v, want exit %d (nobody answers)", err, exitNoExec)
				}

				cmd, err = start(Proc{Dir: ws, OnGate: onGate})
				if err != nil {
					t.Fatal(err)
				}
				if err := cmd.Wait(); err != nil {
					t.Errorf("without an escalate socket: %v", err)
				}
				got = []Gate{<-reports}
				if len(reports) != 0 || got[0].Listener != nil || !strings.Contains(got[0].Why, "no escalate socket") {
					t.Errorf("without an escalate socket: %+v", got)
				}
			})
		}
	}
	l := NewLauncher(nil, NamespaceLauncher(testNsexec(t)))
	defer l.Close()
	reports := make(chan Gate, 2)
	cmd, err := l.Start(context.Background(), Spec{Policy: Policy{Mode: DangerFullAccess}, KernelGate: true},
		[]string{"/bin/true"}, Proc{Extra: escalateSocket(t), OnGate: func(g Gate) { reports <- g }})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Error(err)
	}
	got := []Gate{<-reports}
	if len(reports) != 0 || got[0].Listener != nil || !strings.HasPrefix(got[0].Why, "danger-full-access") {
		t.Errorf("danger-full-access: %+v", got)
	}
}

// escalateSocket is a stand-in for a call's escalate socket.
func escalateSocket(t *testing.T) *os.File {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fds[0])
	f := os.NewFile(uintptr(fds[1]), "escalate")
	t.Cleanup(func() { f.Close() })
	return f
}

// continueEvery lets every program start reported on listener go on, until
// the listener has no process left, and returns how many there were.
func continueEvery(listener *os.File) int {
	type notif struct { // struct seccomp_notif, zeroed for each receive
		ID    uint64
		Pid   uint32
		Flags uint32
		Data  [64]byte
	}
	var resp struct {
		ID    uint64
		Val   int64
		Error int32
		Flags uint32
	}
	n := 0
	for {
		pfd := []unix.PollFd{{Fd: int32(listener.Fd()), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, 10000); err != nil && err != unix.EINTR {
			return n
		}
		if pfd[0].Revents&unix.POLLIN == 0 {
			return n // hung up: no process left under the filter
		}
		var got notif
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, listener.Fd(), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&got))); errno != 0 {
			continue
		}
		n++
		resp.ID, resp.Flags = got.ID, unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE
		unix.Syscall(unix.SYS_IOCTL, listener.Fd(), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp)))
	}
}
