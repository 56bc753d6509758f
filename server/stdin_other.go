//go:build !unix

package server

import "os"

// pollableStdin is os.Stdin: the netpoller change is for Unix pipes.
func pollableStdin() (*os.File, func()) { return os.Stdin, func() {} }
