// Package buildinfo reports the execgate version and how the binary was built.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is set at link time (-ldflags "-X ...buildinfo.Version=v1.2.3");
// otherwise the module version or "devel" is reported.
var Version = ""

// Current returns the version string used in serverInfo and `execgate version`.
func Current() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
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
