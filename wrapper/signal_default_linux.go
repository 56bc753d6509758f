//go:build !execgate_exactsignals

package wrapper

// restoreInheritedSignals has nothing to do in the default build: execve
// itself resets the runtime's handlers and keeps what the runtime left alone
// (see signal_linux.go). The execgate_exactsignals build restores the rest.
func restoreInheritedSignals() {}
