//go:build !(linux && amd64)

package wrapper

// inheritedSignals has no record on this platform: there is no pre-runtime
// entry point for it (see entry_linux_amd64.s).
func inheritedSignals() (ignored, mask uint64, ok bool) { return 0, 0, false }
