//go:build !(linux && amd64)

package wrapper

// takeHandover: there is no pre-runtime fast path on this platform (see
// fastpath_linux_amd64.s), so Main always does everything.
func takeHandover() handover { return handover{stream: -1} }
