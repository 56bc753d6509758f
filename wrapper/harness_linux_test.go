package wrapper_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/frame"
	"github.com/execgate/execgate/internal/testbin"
	"golang.org/x/sys/unix"
)

// The tests run the real execgate binary as the wrapper, against a scripted
// server built from the escalate package's primitives. The server is a test
// double for the decision only: it answers each request from a script and,
// for Escalate, runs the command itself with the descriptors it received.

var (
	wrapperPath string // the codex-execve-wrapper symlink to execgate
	execgateBin string // dir/execgate, next to the codex-execve-wrapper symlink
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(signalHelper())
	}
	// The sessions the tests serve start this binary as their reaper.
	if len(os.Args) == 2 && os.Args[1] == escalate.ReaperRole {
		os.Exit(escalate.ReaperMain(nil))
	}
	dir, err := os.MkdirTemp("", "wrapper-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		defer testbin.Cleanup()
		if err := buildWrapper(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func buildWrapper(dir string) error {
	// Tests also run the wrapper as uid 65534.
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	execgateBin = filepath.Join(dir, "execgate")
	var err error
	wrapperPath, err = build(dir)
	return err
}

// build links dir/execgate to execgate built with extra go build flags and
// returns the path of its codex-execve-wrapper symlink.
func build(dir string, flags ...string) (string, error) {
	bin, err := testbin.Build(testbin.Execgate, flags...)
	if err != nil {
		return "", err
	}
	if err := os.Symlink(bin, filepath.Join(dir, "execgate")); err != nil {
		return "", fmt.Errorf("link execgate: %w", err)
	}
	link := filepath.Join(dir, "codex-execve-wrapper")
	if err := os.Symlink("execgate", link); err != nil {
		return "", fmt.Errorf("link wrapper: %w", err)
	}
	return link, nil
}

// reply scripts the server's answer to one request.
type reply struct {
	resp escalate.Response
	// raw, when set, is written to the stream verbatim instead of a
	// response frame, and the stream is then closed.
	raw []byte
	// rawPause, when set, writes raw in two parts this long apart: its
	// first 4 bytes, then the rest.
	rawPause time.Duration
	// fds, when set, travel with the response frame (a protocol error).
	fds []int
	// result, when set for Escalate, is sent instead of running the command.
	result *escalate.SuperExecResult
	// rawResult, when set for Escalate, is written verbatim after SuperExec
	// and the stream closed.
	rawResult []byte
	// resultFds, when set with result, travel with the result frame (a
	// protocol error).
	resultFds []int
	// shutRead, for Escalate: the server shuts its reading side down
	// before answering, so the wrapper's SuperExec send fails with EPIPE.
	shutRead bool
	// resetAfterForward, for Escalate: after SuperExec the server sends
	// SIGWINCH to the wrapper (the stream's peer), waits for the Forward
	// frame to arrive and closes the stream without reading it, so the
	// wrapper's read of the result fails with ECONNRESET.
	resetAfterForward bool
}

// superExecSeen records what the server got after an Escalate answer.
type superExecSeen struct {
	fds     []int    // the SuperExec message's list
	n       int      // descriptors actually received
	payload string   // the frame's payload, verbatim
	files   []string // the received descriptors' device:inode
}

// server is the scripted escalate server.
type server struct {
	t      testing.TB
	dgram  int      // server end of the datagram socketpair
	child  *os.File // wrapper end, passed to the wrapper as an extra file
	decide func(escalate.Request) reply

	closed atomic.Bool
	wg     sync.WaitGroup

	mu       sync.Mutex
	requests []escalate.Request
	payloads [][]byte // the raw request payloads, in the same order
	supers   []superExecSeen
	forwards []string // the Forward frames' payloads, verbatim
	errs     []error
}

func newServer(t testing.TB, decide func(escalate.Request) reply) *server {
	t.Helper()
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, dgram: pair[0], child: os.NewFile(uintptr(pair[1]), "escalate-socket"), decide: decide}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.stop)
	return s
}

func runAlways(escalate.Request) reply { return reply{resp: escalate.Response{Action: escalate.Run}} }

func (s *server) serve() {
	defer s.wg.Done()
	for {
		fd, err := escalate.ReceiveHandshake(s.dgram)
		if s.closed.Load() {
			if err == nil {
				unix.Close(fd)
			}
			return
		}
		if err != nil {
			s.fail(err)
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer unix.Close(fd)
			if err := s.handle(fd); err != nil {
				s.fail(err)
			}
		}()
	}
}

// kill makes the server's end of the datagram socket go away, as when the
// server process died.
func (s *server) kill() {
	if s.closed.Swap(true) {
		return
	}
	unix.Shutdown(s.dgram, unix.SHUT_RDWR)
	s.wg.Wait()
	unix.Close(s.dgram)
}

func (s *server) stop() {
	s.kill()
	s.child.Close()
}

func (s *server) fail(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

func (s *server) handle(fd int) error {
	payload, fds, err := frame.Read(fd)
	if err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	closeFds(fds)
	var req escalate.Request
	if err := json.Unmarshal(payload, &req); err != nil {
		return fmt.Errorf("decode request %q: %w", payload, err)
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.payloads = append(s.payloads, payload)
	s.mu.Unlock()

	r := s.decide(req)
	if r.shutRead {
		if err := unix.Shutdown(fd, unix.SHUT_RD); err != nil {
			return err
		}
	}
	if r.raw != nil && r.rawPause > 0 && len(r.raw) > 4 {
		if _, err := unix.Write(fd, r.raw[:4]); err != nil {
			return err
		}
		time.Sleep(r.rawPause)
		_, err := unix.Write(fd, r.raw[4:])
		return err
	}
	if r.raw != nil {
		_, err := unix.Write(fd, r.raw)
		return err
	}
	out, err := json.Marshal(r.resp)
	if err != nil {
		return err
	}
	if err := frame.Write(fd, out, r.fds); err != nil {
		return err
	}
	if r.resp.Action != escalate.Escalate || r.shutRead {
		return nil
	}

	payload, fds, err = frame.Read(fd)
	if err != nil {
		return fmt.Errorf("read SuperExec: %w", err)
	}
	var se escalate.SuperExec
	if err := json.Unmarshal(payload, &se); err != nil {
		closeFds(fds)
		return fmt.Errorf("decode SuperExec %q: %w", payload, err)
	}
	s.mu.Lock()
	s.supers = append(s.supers, superExecSeen{fds: se.Fds, n: len(fds), payload: string(payload), files: fileIDs(fds)})
	s.mu.Unlock()
	if r.resetAfterForward {
		closeFds(fds)
		return resetAfterForward(fd)
	}
	if r.rawResult != nil {
		closeFds(fds)
		_, err := unix.Write(fd, r.rawResult)
		return err
	}
	res := escalate.SuperExecResult{}
	if r.result != nil {
		closeFds(fds)
		res = *r.result
	} else if res, err = s.runEscalated(fd, &req, se.Fds, fds); err != nil {
		return err
	}
	out, err = json.Marshal(res)
	if err != nil {
		return err
	}
	return frame.Write(fd, out, r.resultFds)
}

// fileIDs names each descriptor's open file as device:inode.
func fileIDs(fds []int) []string {
	var ids []string
	for _, fd := range fds {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			ids = append(ids, err.Error())
			continue
		}
		ids = append(ids, fmt.Sprintf("%d:%d", st.Dev, st.Ino))
	}
	return ids
}

// resetAfterForward makes the wrapper at the other end of conn forward a
// SIGWINCH and leaves the Forward frame unread when it closes conn.
func resetAfterForward(conn int) error {
	cred, err := unix.GetsockoptUcred(conn, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return err
	}
	if err := unix.Kill(int(cred.Pid), unix.SIGWINCH); err != nil {
		return err
	}
	pfd := []unix.PollFd{{Fd: int32(conn), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(pfd, 10000)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n != 1 {
			return fmt.Errorf("no Forward frame from the wrapper: %d %v", n, err)
		}
		return nil // the caller closes conn, the frame unread
	}
}

// runEscalated runs the request outside with the received descriptors as its
// stdio, relaying Forward frames to its process group.
func (s *server) runEscalated(conn int, req *escalate.Request, targets, fds []int) (escalate.SuperExecResult, error) {
	if len(targets) != len(fds) {
		closeFds(fds)
		return escalate.SuperExecResult{}, fmt.Errorf("SuperExec lists %d fds, %d received", len(targets), len(fds))
	}
	files := make([]*os.File, 3)
	for i, target := range targets {
		f := os.NewFile(uintptr(fds[i]), "stdio"+strconv.Itoa(target))
		defer f.Close()
		if target < 0 || target > 2 {
			return escalate.SuperExecResult{}, fmt.Errorf("SuperExec target fd %d", target)
		}
		files[target] = f
	}
	path := req.File
	if !filepath.IsAbs(path) {
		path = filepath.Join(req.Workdir, path)
	}
	cmd := &exec.Cmd{Path: path, Args: req.Argv, Dir: req.Workdir, Env: []string{"PATH=/usr/bin:/bin"},
		Stdin: files[0], Stdout: files[1], Stderr: files[2],
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true}}
	if err := cmd.Start(); err != nil {
		return escalate.SuperExecResult{}, fmt.Errorf("start %s: %w", path, err)
	}
	for _, f := range files {
		if f != nil {
			f.Close()
		}
	}
	go func() {
		for {
			payload, fds, err := frame.Read(conn)
			if err != nil {
				return
			}
			closeFds(fds)
			s.mu.Lock()
			s.forwards = append(s.forwards, string(payload))
			s.mu.Unlock()
			var fw escalate.Forward
			if json.Unmarshal(payload, &fw) == nil && fw.Signal > 0 {
				syscall.Kill(-cmd.Process.Pid, syscall.Signal(fw.Signal))
			}
		}
	}()
	err := cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return escalate.SuperExecResult{}, err
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return escalate.SuperExecResult{ExitCode: 128 + int(ws.Signal()), Signal: int(ws.Signal())}, nil
	}
	return escalate.SuperExecResult{ExitCode: ws.ExitStatus()}, nil
}

func closeFds(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

func (s *server) seen() []escalate.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]escalate.Request(nil), s.requests...)
}

func (s *server) rawRequests() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.payloads...)
}

func (s *server) superExecs() []superExecSeen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]superExecSeen(nil), s.supers...)
}

func (s *server) forwarded() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.forwards...)
}

func (s *server) errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// proc describes one process the tests start: the wrapper around argv, or
// argv directly, with the same surroundings.
type proc struct {
	argv    []string // FILE ARGV0 ARGV1... as Bash would hand them to the wrapper
	env     []string // extra environment (the socket variable is added)
	dir     string
	stdin   string
	extra   []*os.File // descriptors 3, 4...; the socket comes after them
	noSock  bool       // do not set CODEX_ESCALATE_SOCKET
	sockEnv string     // overrides CODEX_ESCALATE_SOCKET's value
	// wrapper overrides the wrapper binary (default wrapperPath).
	wrapper string
	// signals, when set, starts the process under the signal helper with
	// this spec ("ignore=2,3;block=10").
	signals string
}

type outcome struct {
	stdout, stderr string
	status         syscall.WaitStatus
}

func (o outcome) String() string {
	return fmt.Sprintf("status=%s stdout=%q stderr=%q", describeStatus(o.status), o.stdout, o.stderr)
}

func describeStatus(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "signal " + ws.Signal().String()
	}
	return "exit " + strconv.Itoa(ws.ExitStatus())
}

// command prepares the process: the wrapper around p.argv, or p.argv's
// program directly (execve(FILE, ARGV)), optionally under the signal helper.
func (p proc) command(s *server, wrapped bool) *exec.Cmd {
	path, args := p.argv[0], p.argv[1:]
	if wrapped {
		w := p.wrapper
		if w == "" {
			w = wrapperPath
		}
		path, args = w, append([]string{w}, p.argv...)
	}
	env := []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	if p.signals != "" {
		self, err := os.Executable()
		if err != nil {
			panic(err)
		}
		path, args = self, append([]string{self, path}, args...)
		env = append(env, helperEnv+"="+p.signals)
	}
	cmd := &exec.Cmd{Path: path, Args: args, Dir: p.dir, Stdin: strings.NewReader(p.stdin)}
	files := append([]*os.File(nil), p.extra...)
	sockFd := 3 + len(files)
	if s != nil {
		files = append(files, s.child)
	}
	cmd.ExtraFiles = files
	env = append(env, p.env...)
	switch {
	case p.noSock:
	case p.sockEnv != "":
		env = append(env, "CODEX_ESCALATE_SOCKET="+p.sockEnv)
	default:
		env = append(env, "CODEX_ESCALATE_SOCKET="+strconv.Itoa(sockFd))
	}
	cmd.Env = env
	return cmd
}

func (p proc) run(t *testing.T, s *server, wrapped bool) outcome {
	t.Helper()
	cmd := p.command(s, wrapped)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run %v: %v", cmd.Args, err)
	}
	return outcome{stdout: stdout.String(), stderr: stderr.String(), status: cmd.ProcessState.Sys().(syscall.WaitStatus)}
}

// startReady starts cmd (its stdout not set yet) and waits for the first
// line it prints, which must be "ready"; the scanner then reads the lines
// after it. Scripts print it once their traps are set.
func startReady(t *testing.T, cmd *exec.Cmd) *bufio.Scanner {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("%q: escalated command did not start: %q %v", cmd.Args, lines.Text(), lines.Err())
	}
	return lines
}

// The signal helper: the test binary re-executed with helperEnv set. It sets
// the dispositions and mask a parent would (the Go runtime cannot be asked
// to leave a signal ignored for its children) and execs its arguments.
const helperEnv = "WRAPPER_TEST_SIGNAL_HELPER"

func signalHelper() int {
	runtime.LockOSThread()
	spec := os.Getenv(helperEnv) // "ignore=2,3;block=10,12"
	for _, part := range strings.Split(spec, ";") {
		what, list, _ := strings.Cut(part, "=")
		for _, f := range strings.Split(list, ",") {
			if f == "" {
				continue
			}
			sig, err := strconv.Atoi(f)
			if err != nil {
				fmt.Fprintln(os.Stderr, "signal helper:", err)
				return 2
			}
			switch what {
			case "ignore":
				act := [4]uint64{1} // SIG_IGN
				if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0); e != 0 {
					fmt.Fprintln(os.Stderr, "signal helper: sigaction:", e)
					return 2
				}
			case "block":
				set := uint64(1) << (sig - 1)
				if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_BLOCK, uintptr(unsafe.Pointer(&set)), 0, 8, 0, 0); e != 0 {
					fmt.Fprintln(os.Stderr, "signal helper: sigprocmask:", e)
					return 2
				}
			}
		}
	}
	args := os.Args[1:]
	env := make([]string, 0, len(os.Environ()))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, helperEnv+"=") {
			env = append(env, kv)
		}
	}
	// args: FILE ARGV0 ARGV1... (the same shape as the wrapper's).
	err := syscall.Exec(args[0], args[1:], env)
	fmt.Fprintln(os.Stderr, "signal helper: exec:", err)
	return 2
}
