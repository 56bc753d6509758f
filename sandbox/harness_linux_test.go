package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const nobody = 65534

// The helper's own exit statuses (nsexec/nsexec.h); the program's pass
// through.
const (
	exitSetup    = 125 // the sandbox could not be set up: nothing ran
	exitNoExec   = 126 // the program exists but could not be executed
	exitNotFound = 127 // the program was not found
)

// testEnv is a scratch area outside /tmp (which is itself a writable root
// by default): a workspace holding a .git, a fake $HOME, and a copy of the
// test binary that an unprivileged uid may execute.
type testEnv struct {
	base, ws, home, bin string
	uid                 int
}

func newTestEnv(t testing.TB, uid int) testEnv {
	t.Helper()
	base, err := os.MkdirTemp("/var/tmp", "execgate-sandbox-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	e := testEnv{base: base, ws: filepath.Join(base, "ws"), home: filepath.Join(base, "home"),
		bin: filepath.Join(base, "sandbox.test"), uid: uid}
	for _, d := range []string{e.ws, e.home, e.ws + "/.git/hooks", e.ws + "/a", e.ws + "/b"} {
		mustMkdir(t, d)
	}
	mustWrite(t, e.ws+"/.git/config", "[core]\n")
	mustWrite(t, e.ws+"/a/f", "f")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	chownTree(t, e.ws, uid)
	chownTree(t, e.home, uid)
	return e
}

func chownTree(t testing.TB, dir string, uid int) {
	t.Helper()
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, uid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// launch runs req through the launch role as e.uid, in e.ws, with a
// datagram escalate socket as fd 3 that answers one "ping" with "pong".
// It returns stdout+stderr and the exit status.
func (e testEnv) launch(t testing.TB, req launchRequest) (string, int) {
	t.Helper()
	if req.Workspace == "" {
		req.Workspace = e.ws
	}
	if req.NsExec == "" {
		req.NsExec = testNsexec(t)
	}
	enc, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, "launch", string(enc))
	cmd.Dir = e.ws
	// Leftover processes would hold the output pipe: fail, do not hang.
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + e.home, "LANG=C", "GORACE=" + os.Getenv("GORACE")}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if e.uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(e.uid), Gid: uint32(e.uid)}}
	}
	srv, cli := escalatePair(t)
	defer srv.Close()
	cmd.ExtraFiles = []*os.File{cli}
	done := make(chan struct{})
	go func() { defer close(done); serveEscalate(srv) }()
	err = cmd.Run()
	cli.Close()
	srv.Close()
	<-done
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("launch: %v\n%s", err, out.String())
	}
	return out.String(), code
}

// escalatePair is a SOCK_DGRAM socketpair like the server's escalate
// socket: srv stays with the test, cli goes to the sandbox as fd 3.
func escalatePair(t testing.TB) (srv, cli *os.File) {
	t.Helper()
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Non-blocking on the server end only, so that closing it wakes a
	// pending read.
	if err := unix.SetNonblock(p[0], true); err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(p[0]), "escalate-server"), os.NewFile(uintptr(p[1]), "escalate-client")
}

// serveEscalate answers each handshake: receive a stream socket in
// SCM_RIGHTS, read "ping", write "pong". It returns when srv is closed.
func serveEscalate(srv *os.File) {
	rc, err := srv.SyscallConn()
	if err != nil {
		return
	}
	for {
		var fd int
		var rerr error
		err := rc.Read(func(s uintptr) bool {
			fd, rerr = recvFD(int(s))
			return !errors.Is(rerr, unix.EAGAIN)
		})
		if err != nil || rerr != nil {
			return
		}
		go func(fd int) {
			defer unix.Close(fd)
			buf := make([]byte, 4)
			if n, _ := unix.Read(fd, buf); string(buf[:n]) == "ping" {
				unix.Write(fd, []byte("pong"))
			}
		}(fd)
	}
}

// tcpListener accepts and drops connections on 127.0.0.1.
func tcpListener(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	return ln.Addr().String()
}
