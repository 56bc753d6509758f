// Command forge speaks the escalate protocol from inside a sandboxed call the
// way a hostile program would, without the wrapper: it sends requests the
// wrapper never would, and opens streams and frames to test the server's
// bounds. The security tests build it and run it through the real server.
//
//	forge request JSON [CMD ARG...]
//	                       send JSON as an EscalateRequest; on Escalate run
//	                       CMD, if given, then pass stdio and wait; print the
//	                       answer and exit code (CMD runs between the
//	                       server's decision and the escalated start)
//	forge idle N           open N streams, send nothing on them, print how
//	                       many the server refused, keep them open until stdin
//	                       ends
//	forge bigframe N SIZE  open N streams, announce SIZE-byte requests, send
//	                       all but one byte, then wait until stdin ends
//	forge junk N           send N malformed handshake datagrams, then N
//	                       streams closed without a request
package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/frame"
)

func main() {
	if len(os.Args) < 3 {
		fail("usage: forge request JSON | idle N | bigframe N SIZE | junk N")
	}
	sock, err := strconv.Atoi(os.Getenv("CODEX_ESCALATE_SOCKET"))
	if err != nil {
		fail("CODEX_ESCALATE_SOCKET: " + err.Error())
	}
	switch os.Args[1] {
	case "request":
		os.Exit(request(sock, os.Args[2], os.Args[3:]))
	case "idle":
		idle(sock, atoi(os.Args[2]))
	case "bigframe":
		if len(os.Args) < 4 {
			fail("bigframe N SIZE")
		}
		bigframe(sock, atoi(os.Args[2]), atoi(os.Args[3]))
	case "junk":
		junk(sock, atoi(os.Args[2]))
	default:
		fail("unknown mode " + os.Args[1])
	}
}

func request(sock int, payload string, between []string) int {
	c, err := escalate.Dial(sock)
	if err != nil {
		fail(err.Error())
	}
	if err := frame.Write(c, []byte(payload), nil); err != nil {
		fail("send request: " + err.Error())
	}
	b, _, err := frame.Read(c)
	if err != nil {
		fmt.Printf("answer: error %v\n", err)
		return 125
	}
	fmt.Printf("answer: %s\n", b)
	resp, err := escalate.ParseResponse(b)
	if err != nil {
		fmt.Printf("parse: %v\n", err)
		return 125
	}
	if resp.Action != escalate.Escalate {
		return 124
	}
	if len(between) > 0 {
		cmd := exec.Command(between[0], between[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Printf("between: %v\n", err)
		}
	}
	if err := frame.Write(c, []byte(`{"fds":[0,1,2]}`), []int{0, 1, 2}); err != nil {
		fail("send SuperExec: " + err.Error())
	}
	b, _, err = frame.Read(c)
	if err != nil {
		fmt.Printf("result: error %v\n", err)
		return 125
	}
	fmt.Printf("result: %s\n", b)
	return 0
}

// idle opens n streams and keeps them; a stream the server refused gets an
// answer (or is closed) at once.
func idle(sock, n int) {
	var conns []int
	for i := 0; i < n; i++ {
		c, err := escalate.Dial(sock)
		if err != nil {
			fmt.Printf("dial %d: %v\n", i, err)
			break
		}
		conns = append(conns, c)
	}
	// A refused stream has its answer (or end of file) at once.
	pfds := make([]unix.PollFd, len(conns))
	for i, c := range conns {
		pfds[i] = unix.PollFd{Fd: int32(c), Events: unix.POLLIN}
	}
	unix.Poll(pfds, 500)
	refused := 0
	var first string
	for _, p := range pfds {
		if p.Revents == 0 {
			continue
		}
		refused++
		if first == "" {
			b, _, err := frame.Read(int(p.Fd))
			first = fmt.Sprintf("%s %v", b, err)
		}
	}
	fmt.Printf("opened %d refused %d first %s\n", len(conns), refused, first)
	io.Copy(io.Discard, os.Stdin)
}

func bigframe(sock, n, size int) {
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = 'a'
	}
	sent := 0
	for i := 0; i < n; i++ {
		c, err := escalate.Dial(sock)
		if err != nil {
			fmt.Printf("dial %d: %v\n", i, err)
			break
		}
		var hdr [4]byte
		binary.LittleEndian.PutUint32(hdr[:], uint32(size))
		if _, err := unix.Write(c, hdr[:]); err != nil {
			fmt.Printf("stream %d header: %v\n", i, err)
			continue
		}
		left := size - 1
		for left > 0 {
			k := min(left, len(chunk))
			w, err := unix.Write(c, chunk[:k])
			if err != nil {
				fmt.Printf("stream %d: %v after %d bytes\n", i, err, size-1-left)
				break
			}
			left -= w
		}
		if left == 0 {
			sent++
		}
	}
	fmt.Printf("streams with %d of %d bytes sent: %d\n", size-1, size, sent)
	io.Copy(io.Discard, os.Stdin)
}

func junk(sock, n int) {
	for i := 0; i < n; i++ {
		unix.Sendmsg(sock, []byte{7, 7}, nil, nil, 0)
	}
	for i := 0; i < n; i++ {
		c, err := escalate.Dial(sock)
		if err != nil {
			fmt.Printf("dial %d: %v\n", i, err)
			return
		}
		unix.Close(c)
	}
	fmt.Println("sent")
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fail(err.Error())
	}
	return n
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "forge: "+msg)
	os.Exit(2)
}
