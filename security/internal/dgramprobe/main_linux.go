package main

// Run inside the sandbox, dgramprobe tries every way it knows to get a
// datagram to the pathname socket given as its argument, and says for each
// whether the kernel accepted it.

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dgramprobe SOCKET")
		os.Exit(2)
	}
	to := &unix.SockaddrUnix{Name: os.Args[1]}
	try := func(name string, fd int, err error) {
		if err == nil {
			err = unix.Sendmsg(fd, []byte(name), nil, to, 0)
			unix.Close(fd)
		}
		if err != nil {
			fmt.Printf("%s: refused: %v\n", name, err)
			return
		}
		fmt.Printf("%s: SENT\n", name)
	}
	for _, typ := range []struct {
		name string
		typ  int
	}{
		{"socket-dgram", unix.SOCK_DGRAM},
		{"socket-dgram-cloexec-nonblock", unix.SOCK_DGRAM | unix.SOCK_CLOEXEC | unix.SOCK_NONBLOCK},
		{"socket-raw", unix.SOCK_RAW},
	} {
		fd, err := unix.Socket(unix.AF_UNIX, typ.typ, 0)
		try(typ.name, fd, err)
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
	if err == nil {
		unix.Close(pair[1])
	}
	try("socketpair-dgram", pair[0], err)
	// The escalate socket the shell inherited, and a duplicate of it.
	if dup, err := unix.Dup(3); err == nil {
		try("escalate-socket", dup, nil)
	} else {
		fmt.Printf("escalate-socket: no fd 3: %v\n", err)
	}
	// What must keep working: stream and seqpacket socketpairs (the
	// wrapper's handshake makes one per exec).
	for _, typ := range []struct {
		name string
		typ  int
	}{{"socketpair-stream", unix.SOCK_STREAM}, {"socketpair-seqpacket", unix.SOCK_SEQPACKET}} {
		if p, err := unix.Socketpair(unix.AF_UNIX, typ.typ|unix.SOCK_CLOEXEC, 0); err != nil {
			fmt.Printf("%s: BROKEN: %v\n", typ.name, err)
		} else {
			unix.Close(p[0])
			unix.Close(p[1])
			fmt.Printf("%s: works\n", typ.name)
		}
	}
}
