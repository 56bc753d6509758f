// Command lean is execgate with only the roles that start often: the execve
// wrapper (once per program the agent's shell starts), the sandbox helper
// (once per call) and the escalate reaper (once per call that escalates). `make build` embeds it into execgate (internal/leanwrapper),
// and the server runs it under the names codex-execve-wrapper and
// execgate-sandbox (helper and reaper).
//
// It exists because Go runs the init of every package linked into a binary at
// every start: the full execgate binary links the MCP SDK (net/http, crypto,
// JSON schema), which costs about a millisecond per start. The wrapper's Run
// answer is mostly handled before the runtime starts (wrapper's fast path),
// but its other answers and the sandbox helper run Go code. This binary also
// turns off the runtime's GOMAXPROCS updates from cgroup limits: the runtime
// still reads the cgroup once at start (Go 1.26 does so unconditionally),
// but starts no goroutine to re-check it.
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/leanwrapper"
	"github.com/execgate/execgate/sandbox"
	"github.com/execgate/execgate/wrapper"
)

func main() {
	// The role comes from the name only: as the wrapper, os.Args[1] is
	// whatever program the shell runs, which may well be called "sandbox".
	if filepath.Base(os.Args[0]) == leanwrapper.HelperName {
		switch {
		case len(os.Args) >= 2 && os.Args[1] == "sandbox":
			os.Exit(sandbox.HelperMain(os.Args[2:]))
		case len(os.Args) >= 2 && os.Args[1] == escalate.ReaperRole:
			os.Exit(escalate.ReaperMain(os.Args[2:]))
		}
		fmt.Fprintf(os.Stderr, "%s: usage: %s sandbox SPEC -- ARGV... | %s %s (started by the execgate server)\n",
			leanwrapper.HelperName, leanwrapper.HelperName, leanwrapper.HelperName, escalate.ReaperRole)
		os.Exit(2)
	}
	os.Exit(wrapper.Main(os.Args))
}
