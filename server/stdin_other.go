//go:build !linux

package server

import (
	"io"
	"os"
)

// protocolInput is f: see stdin_linux.go.
func protocolInput(f *os.File) io.ReadCloser { return f }
