// Package policy evaluates Codex-compatible .rules files (placeholder until issue 3 lands).
package policy

import (
	"fmt"
	"io"
)

// CheckMain is `execgate check`.
func CheckMain(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "execgate check: not implemented yet")
	return 2
}
