// Command execgate-sandbox is execgate's escalate reaper in a binary of
// its own: the same package (escalate) that execgate runs under `execgate
// escalate-reaper`, without the MCP SDK, the rules engine and everything
// else the server links. A reaper starts for every call that escalates,
// and a Go program pays for the initialisation of every package it links
// at each start: measured on a 2-core VM, 20.6 ms of CPU to start and exit
// as execgate, 10.6 ms as this binary (an empty Go program: 8.4 ms). The
// sandbox helper it also was until stage 5 of docs/c-helper.md is now C,
// in the sandbox launcher (sandbox/nsexec).
//
// `make build` builds it beside execgate and stamps both with one pairing
// value; the server uses it only when the stamps match (see
// buildinfo.Pair), so a reaper from another build is never mixed with the
// server that speaks to it. Otherwise the server runs itself in that role.
package main

import (
	"fmt"
	"os"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/buildinfo"
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
		case escalate.ReaperRole:
			return escalate.ReaperMain(args[2:])
		case pairRole:
			fmt.Println(buildinfo.Pair)
			return 0
		}
	}
	fmt.Fprintf(os.Stderr, "usage: %s %s | %s (started by the execgate server, not by hand)\n", args[0], escalate.ReaperRole, pairRole)
	return 2
}
