package wrapper

// EntrySymbol is the linker name of the pre-runtime entry point that tries
// the Run and Escalate fast path (fastpath_linux_amd64.s) and, when that
// leaves the rest to Go, records the inherited signal state
// (entry_linux_amd64.s). Binaries for linux/amd64
// are linked with -ldflags=-E=EntrySymbol; elsewhere the symbol does not
// exist and the wrapper falls back to the kernel's execve rules.
const EntrySymbol = "github.com/execgate/execgate/wrapper.earlyEntry"
