// Package buildinfo reports the execgate version and how the binary was built.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is set at link time (-ldflags "-X ...buildinfo.Version=v1.2.3";
// `make build` passes what scripts/version.sh prints).
var Version = ""

// Pair is set at link time by `make build` to one value for execgate and
// execgate-sandbox built together (and by nothing else). The server hands
// its calls to that helper only when the helper prints the server's own,
// non-empty Pair: a helper built apart (older, newer, or from other
// sources) is never mixed with a server that speaks to it over a private
// protocol.
var Pair = ""

// Current returns the version string used in serverInfo and `execgate
// version`: the linked-in Version, else the main module's version (a
// release when installed with `go install ...@vX.Y.Z`; from a git clone,
// the pseudo-version `go build` derives from the commit, "+dirty" with
// uncommitted changes), else "devel" and the commit if the build recorded
// one, else "devel".
func Current() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.modified":
			modified = kv.Value
		}
	}
	if rev == "" {
		return "devel"
	}
	v := "devel-" + rev[:min(12, len(rev))]
	if modified == "true" {
		v += "+dirty"
	}
	return v
}

// String is the one-line description printed by `execgate version`.
func String() string {
	s := fmt.Sprintf("execgate %s %s %s/%s", Current(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, kv := range bi.Settings {
			if kv.Key == "vcs.revision" {
				s += " " + kv.Value
			}
		}
	}
	return s
}
