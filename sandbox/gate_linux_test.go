package sandbox

import (
	"encoding/binary"
	"os"
	"strings"
	"testing"
	"time"

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
