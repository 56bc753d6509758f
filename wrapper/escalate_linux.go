package wrapper

import (
	"encoding/json"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"unicode/utf8"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/frame"
	"golang.org/x/sys/unix"
)

// forwardedSignals are relayed to the escalated command, which runs in its
// own process group on the server's side and so does not get the terminal's
// or the shell's signals by itself.
var forwardedSignals = [...]os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGWINCH}

// superExec hands the wrapper's stdio to the server, which runs the command
// outside the sandbox, relays signals until it ends, and ends the wrapper the
// way the command ended.
func superExec(conn int, req *escalate.Request) int {
	if what, ok := lossy(req); !ok {
		return failClosed(what + " is not valid UTF-8 and cannot be sent to the server unchanged; refusing to escalate " + strconv.Quote(req.File))
	}

	// Catch the forwarded signals before the command can start: from now on
	// a Ctrl-C must reach it, not kill the wrapper (or make the Go runtime
	// dump goroutines, for SIGQUIT).
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwardedSignals[:]...)
	defer signal.Stop(sigs)

	// The Go runtime opened /dev/null on any of 0, 1, 2 that was closed at
	// start, so all three exist; the command gets them, as in Codex.
	fds := []int{0, 1, 2}
	if err := frame.Write(conn, superExecPayload(fds), fds); err != nil {
		return failClosed("cannot hand stdio to the server: " + err.Error())
	}

	// Forward the caught signals while waiting for the result, then end
	// the way the command ended.
	done := make(chan struct{})
	defer close(done)
	go forwardSignals(conn, sigs, done)

	res, err := readResult(conn)
	if err != nil {
		return failClosed(err.Error())
	}
	if res.Signal != 0 {
		return dieBySignal(res.Signal)
	}
	return res.ExitCode & 0xff
}

// lossy names the first part of the request that JSON would alter.
func lossy(req *escalate.Request) (string, bool) {
	if req.Lossless() {
		return "", true
	}
	if !utf8.ValidString(req.File) {
		return "the program path " + strconv.Quote(req.File), false
	}
	for i, a := range req.Argv {
		if !utf8.ValidString(a) {
			return "argument " + strconv.Itoa(i) + " " + strconv.Quote(a), false
		}
	}
	return "the request", false
}

// superExecPayload is SuperExec{Fds: fds} in its wire form.
func superExecPayload(fds []int) []byte {
	b := []byte(`{"fds":[`)
	for i, fd := range fds {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(fd), 10)
	}
	return append(b, "]}"...)
}

// forwardSignals relays each caught signal as a Forward frame (an extension a
// Codex server never reads) until done is closed or the server is gone.
func forwardSignals(conn int, sigs <-chan os.Signal, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case s := <-sigs:
			n, ok := s.(syscall.Signal)
			if !ok {
				continue
			}
			payload := strconv.AppendInt([]byte(`{"signal":`), int64(n), 10)
			payload = append(payload, '}')
			if frame.Write(conn, payload, nil) != nil {
				return // the result read reports the broken connection
			}
		}
	}
}

// readResult waits for the escalated command's SuperExecResult.
func readResult(conn int) (escalate.SuperExecResult, error) {
	payload, fds, err := frame.Read(conn)
	if err != nil {
		return escalate.SuperExecResult{}, errorString("no exit status from the server for the escalated command: " + err.Error())
	}
	if len(fds) > 0 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return escalate.SuperExecResult{}, errorString("server sent file descriptors with the exit status; expected none")
	}
	var wire struct {
		ExitCode *int `json:"exit_code"`
		Signal   int  `json:"signal"`
	}
	if err := json.Unmarshal(payload, &wire); err != nil || wire.ExitCode == nil {
		return escalate.SuperExecResult{}, errorString("malformed exit status from the server: " + truncateQuote(payload))
	}
	return escalate.SuperExecResult{ExitCode: *wire.ExitCode, Signal: wire.Signal}, nil
}

func truncateQuote(b []byte) string {
	const max = 120
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "..."
	}
	return strconv.Quote(string(b))
}
