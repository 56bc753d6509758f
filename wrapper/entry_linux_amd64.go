package wrapper

// Written by earlyEntry (entry_linux_amd64.s) before the runtime starts; read
// only afterwards, so no synchronisation is needed.
var (
	entryCaptured uint64    // 1 when earlyEntry ran
	entryIgnored  uint64    // bit N-1 set: signal N was SIG_IGN at exec
	entryMask     uint64    // the signal mask at exec
	entryAction   [4]uint64 // scratch struct sigaction for earlyEntry
)

// earlyEntry is the process entry point when the binary is linked with
// -E=github.com/execgate/execgate/wrapper.earlyEntry (the Makefile does).
func earlyEntry()

// inheritedSignals reports the signal state the process was exec'd with, if
// earlyEntry recorded it.
func inheritedSignals() (ignored, mask uint64, ok bool) {
	return entryIgnored, entryMask, entryCaptured == 1
}
