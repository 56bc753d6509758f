// Command execgate-sandbox is execgate's sandbox helper and escalate reaper
// in a binary of their own: the same packages (sandbox, escalate) that
// execgate runs under `execgate sandbox` and `execgate escalate-reaper`,
// without the MCP SDK, the rules engine and everything else the server
// links. A helper starts for every call (and a reaper for every call that
// escalates), and a Go program pays for the initialisation of every
// package it links at each start: measured on a 2-core VM, 20.6 ms of CPU
// to start and exit as `execgate sandbox`, 10.6 ms as this binary (an empty
// Go program: 8.4 ms).
//
// `make build` builds it beside execgate and stamps both with one pairing
// value; the server uses it only when the stamps match (see
// buildinfo.Pair), so a helper from another build is never mixed with the
// server that speaks to it. Otherwise the server runs itself in these roles.
package main

import (
	"fmt"
	"os"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/buildinfo"
	"github.com/execgate/execgate/sandbox"
)

// PairRole prints the pairing stamp.
const pairRole = "pair"

func main() {
	os.Exit(dispatch(os.Args))
}

// dispatch takes the same argument shapes as execgate's own roles.
func dispatch(args []string) int {
	if len(args) >= 2 {
		switch args[1] {
		case "sandbox":
			return sandbox.HelperMain(args[2:])
		case escalate.ReaperRole:
			return escalate.ReaperMain(args[2:])
		case pairRole:
			fmt.Println(buildinfo.Pair)
			return 0
		}
	}
	fmt.Fprintf(os.Stderr, "usage: %s sandbox ... | %s | %s (started by the execgate server, not by hand)\n", args[0], escalate.ReaperRole, pairRole)
	return 2
}
