package wrapper

import (
	"os"
	"strconv"
	"strings"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/frame"
	"golang.org/x/sys/unix"
)

// socketEnv names the inherited datagram socket; the name is Codex's.
const socketEnv = "CODEX_ESCALATE_SOCKET"

// Main runs the wrapper role. args is NAME FILE ARGV0 ARGV1...: FILE is the
// path Bash resolved (possibly relative), ARGV0... the argv it would have
// passed to execve. The result is the process exit status; on Run it does not
// return.
func Main(args []string) int {
	if len(args) < 3 {
		return failClosed("usage: codex-execve-wrapper FILE ARGV0 [ARGV...] (started by a patched Bash, not by hand)")
	}
	file, argv := args[1], args[2:]

	// os.Environ is exactly what Bash passed (Bash never exports duplicate
	// names), and it is what FILE gets on Run.
	environ := os.Environ()
	req := escalate.Request{File: file, Argv: argv, Env: make(map[string]string, len(environ))}
	sock, haveSock := "", false
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		req.Env[k] = v
		if k == socketEnv {
			sock, haveSock = v, true
		}
	}
	if !haveSock {
		return failClosed(socketEnv + " is not set; refusing to run " + file + " without a decision")
	}
	dgram, err := strconv.Atoi(sock)
	if err != nil || dgram < 0 {
		return failClosed(socketEnv + "=" + strconv.Quote(sock) + " is not a file descriptor number; refusing to run " + file)
	}
	// getcwd(2), the physical path, as Codex's wrapper sends it; the server
	// resolves a relative FILE against it.
	if req.Workdir, err = unix.Getwd(); err != nil {
		return failClosed("cannot determine the working directory: " + err.Error() + "; refusing to run " + file)
	}

	conn, resp, err := decide(dgram, &req)
	if err != nil {
		return failClosed(err.Error())
	}
	switch resp.Action {
	case escalate.Run:
		if resp.Note != "" {
			// Why the program runs here rather than where a rule allows.
			os.Stderr.WriteString(oneLine(resp.Note) + "\n")
		}
		// conn is close-on-exec: the server sees it close when FILE starts.
		return execInPlace(file, argv, environ)
	case escalate.Escalate:
		defer unix.Close(conn)
		return superExec(conn, &req)
	case escalate.Deny:
		unix.Close(conn)
		msg := "Execution denied"
		if resp.Reason != "" {
			msg += ": " + resp.Reason
		}
		os.Stderr.WriteString(msg + "\n")
		return exitDenied
	}
	unix.Close(conn)
	return failClosed("server answered with unknown action " + resp.Action.String())
}

// decide gets the server's answer to req on a private stream, the request
// sent with the handshake (see escalate.DialRequest). On error the stream
// is closed.
func decide(dgram int, req *escalate.Request) (int, escalate.Response, error) {
	payload := requestPayload(req)
	if len(payload) > frame.MaxPayload {
		return -1, escalate.Response{}, errorString("the request (file, argv, workdir and environment) is " + strconv.Itoa(len(payload)) +
			" bytes, over the server's limit of " + strconv.Itoa(frame.MaxPayload))
	}
	conn, err := escalate.DialRequest(dgram, payload)
	if err != nil {
		return -1, escalate.Response{}, errorString("cannot reach the execgate server: " + err.Error())
	}
	resp, err := receive(conn)
	if err != nil {
		unix.Close(conn)
		return -1, resp, err
	}
	return conn, resp, nil
}

// requestPayload encodes req for the request frame.
func requestPayload(req *escalate.Request) []byte {
	size := 64 + len(req.File) + len(req.Workdir)
	for _, a := range req.Argv {
		size += len(a) + 3
	}
	for k, v := range req.Env {
		size += len(k) + len(v) + 6
	}
	return escalate.AppendRequest(make([]byte, 0, size), req)
}

// receive reads the decision from the private stream.
func receive(conn int) (escalate.Response, error) {
	reply, fds, err := frame.Read(conn)
	if err != nil {
		return escalate.Response{}, err
	}
	if len(fds) > 0 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return escalate.Response{}, errorString("server sent " + strconv.Itoa(len(fds)) + " file descriptors with its decision; expected none")
	}
	resp, err := escalate.ParseResponse(reply)
	if err != nil {
		return escalate.Response{}, err
	}
	return resp, nil
}

// failClosed reports a protocol or setup failure on one line and returns the
// status for "not run".
func failClosed(msg string) int {
	os.Stderr.WriteString(progName + ": " + oneLine(msg) + "\n")
	return exitCannotExec
}

// oneLine keeps a diagnostic on a single line even when it quotes what a
// broken peer sent.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
}

// errorString is a minimal error for messages built without fmt.
type errorString string

func (e errorString) Error() string { return string(e) }
