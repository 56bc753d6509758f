//go:build !linux

package sandbox

import "runtime"

// Probe reports no sandbox features: sandboxing is implemented for Linux
// only, so the sandboxed modes fail closed here.
func Probe(_ string) Capabilities {
	return Capabilities{
		OS:              runtime.GOOS,
		SeccompError:    "Linux only",
		NamespacesError: "Linux only",
		KernelGateError: "Linux only",
	}
}
