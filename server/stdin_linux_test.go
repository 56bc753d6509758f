package server

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/execgate/execgate/internal/testhelp"
)

// A pipe on stdin is read through a description of its own, parked in the
// netpoller while no request comes (not a thread blocked in read(2)); the
// bytes and the end of input are the pipe's, and the original description
// stays blocking.
func TestProtocolInputPipeParks(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	stdin := os.NewFile(uintptr(p[0]), "stdin") // blocking, as a client hands it over
	w := os.NewFile(uintptr(p[1]), "client")
	defer w.Close()
	in := protocolInput(stdin)
	if in == io.ReadCloser(stdin) {
		t.Fatal("a pipe was not reopened")
	}
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(in)
		got <- string(b)
	}()
	state := ""
	for deadline := time.Now().Add(5 * time.Second); state == "" || state == "running" || state == "runnable"; time.Sleep(10 * time.Millisecond) {
		state = testhelp.GoroutineState("io.ReadAll")
		if time.Now().After(deadline) {
			t.Fatal("the reader was never seen waiting")
		}
	}
	if strings.HasPrefix(state, "syscall") {
		t.Errorf("waiting for input the reader was in state %q, want parked in the netpoller", state)
	}
	if _, err := io.WriteString(w, `{"jsonrpc":"2.0"}`+"\n"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if s := <-got; s != `{"jsonrpc":"2.0"}`+"\n" {
		t.Errorf("read %q", s)
	}
	if flags, err := unix.FcntlInt(uintptr(p[0]), unix.F_GETFL, 0); err != nil || flags&unix.O_NONBLOCK != 0 {
		t.Errorf("the original description's flags: %#x, %v; want blocking", flags, err)
	}
	if err := in.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := unix.FcntlInt(uintptr(p[0]), unix.F_GETFD, 0); err != unix.EBADF {
		t.Errorf("the original descriptor after Close: %v, want closed", err)
	}
}

// Anything but a pipe is read as it is.
func TestProtocolInputNotAPipe(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if in := protocolInput(f); in != io.ReadCloser(f) {
		t.Errorf("protocolInput(%s) = %v, want the file itself", os.DevNull, in)
	}
}
