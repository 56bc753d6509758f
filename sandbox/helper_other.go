//go:build !linux

package sandbox

import (
	"fmt"
	"runtime"
)

func runHelper(args []string) int {
	return helperFail(fmt.Errorf("the sandbox helper is implemented for Linux only, not %s", runtime.GOOS))
}
