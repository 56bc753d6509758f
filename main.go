// Command execgate serves an MCP "shell" tool whose every program start is
// checked against a policy, and plays the other roles of that machinery (the
// execve wrapper, the escalate reaper, the rules checker).
//
// main picks the role before anything else: the wrapper role runs once per
// program a shell without the in-shell client starts, and the escalate
// reaper once per escalated call, so they must not pay for flag parsing or logging
// setup they do not use. Every package linked in runs its init at every
// start, whatever the role: keep package-level work out of this program's
// packages (GODEBUG=inittrace=1 shows it). The go:debug lines below stop
// the runtime from following cgroup CPU limits after start (it still reads
// them once; Go 1.26 does so unconditionally), so the reaper and the
// wrapper start no goroutine for it.
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/buildinfo"
	"github.com/execgate/execgate/policy"
	"github.com/execgate/execgate/server"
	"github.com/execgate/execgate/wrapper"
)

func main() {
	os.Exit(dispatch(os.Args))
}

// wrapperNames are the argv[0] basenames that select the execve wrapper role.
// codex-execve-wrapper keeps Codex's patched Bash builds and configs working.
var wrapperNames = map[string]bool{
	"codex-execve-wrapper":    true,
	"execgate-execve-wrapper": true,
}

func dispatch(args []string) int {
	if len(args) > 0 && wrapperNames[filepath.Base(args[0])] {
		return wrapper.Main(args)
	}
	if len(args) < 2 {
		usage(os.Stderr)
		return 2
	}
	sub, rest := args[1], args[2:]
	switch sub {
	case "execve-wrapper":
		// Same argument shape as the symlinked form: NAME FILE ARGV...
		return wrapper.Main(append([]string{args[0] + " execve-wrapper"}, rest...))
	case escalate.ReaperRole:
		return escalate.ReaperMain(rest)
	case "server":
		return server.ServeMain(rest)
	case "run":
		return server.RunMain(rest)
	case "doctor":
		return server.DoctorMain(rest)
	case "check":
		return policy.CheckMain(rest, os.Stdout, os.Stderr)
	case "install-helpers":
		return server.InstallHelpersMain(rest)
	case "version", "--version":
		fmt.Println(buildinfo.String())
		return 0
	case "help", "-h", "--help":
		usage(os.Stdout)
		return 0
	default:
		fmt.Fprintf(os.Stderr, "execgate: unknown subcommand %q\n", sub)
		usage(os.Stderr)
		return 2
	}
}

func usage(w *os.File) {
	fmt.Fprint(w, `usage: execgate <subcommand> [flags]

subcommands:
  server   serve the MCP shell tool on stdio
  run      run one script through the policy and sandbox: execgate run [flags] -- SCRIPT
  check    evaluate rules for a command: execgate check --rules FILE [--pretty] -- CMD...
  doctor   report kernel features, the patched Bash, rules and config in effect
  install-helpers DIR
           put the execve wrapper and helpers where the server runs them from
           (make install does this for PREFIX/libexec/execgate)
  version  print version and build information
`)
}
