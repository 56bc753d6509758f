package server

import (
	"os"

	"golang.org/x/sys/unix"
)

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// noCTTY keeps a terminal opened for a prompt from becoming the controlling
// terminal of a server that has none.
const noCTTY = unix.O_NOCTTY
