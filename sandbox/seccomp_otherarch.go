//go:build linux && !amd64 && !arm64

package sandbox

// No filter is written for this architecture: sandboxed modes fail closed.
const (
	auditArch = 0
	x32Bit    = 0
)

var chmodCalls []modeArg
