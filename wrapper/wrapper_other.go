//go:build !linux

package wrapper

import (
	"os"
	"runtime"
)

// Main fails closed: the wrapper's exec transparency (signal state, Bash's
// exec error handling) is only implemented for Linux.
func Main(args []string) int {
	os.Stderr.WriteString(progName + ": not supported on " + runtime.GOOS + "; refusing to run anything\n")
	return exitCannotExec
}
