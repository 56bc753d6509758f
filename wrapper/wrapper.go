// Package wrapper is the execve wrapper process (placeholder until issue 2 lands).
package wrapper

import (
	"fmt"
	"os"
)

// Main runs the wrapper role: args is NAME FILE ARGV0 ARGV1...
func Main(args []string) int {
	fmt.Fprintln(os.Stderr, "execgate: execve wrapper: not implemented yet")
	return 126
}
