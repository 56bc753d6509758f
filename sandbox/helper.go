// Package sandbox confines the agent's Bash (placeholder until issue 4 lands).
package sandbox

import (
	"fmt"
	"os"
)

// HelperMain is the hidden `execgate sandbox` role.
func HelperMain(args []string) int {
	fmt.Fprintln(os.Stderr, "execgate sandbox: not implemented yet")
	return 2
}
