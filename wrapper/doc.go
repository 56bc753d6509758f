// Package wrapper is the execve wrapper: the process a patched Bash runs
// instead of every program it starts, as
//
//	WRAPPER FILE ARGV0 ARGV1...
//
// It asks the execgate server (over the socket named by CODEX_ESCALATE_SOCKET)
// what to do, then either execs FILE in place (Run), hands its stdio to the
// server which runs FILE outside the sandbox (Escalate), or refuses (Deny).
//
// The wrapper starts once per program the agent's shell runs when that
// shell has no in-shell client (a patched Bash that asks the server itself
// starts no wrapper on Run), so the Run path is kept to a handful of
// syscalls: no package init work of its own, no reflection, no goroutines.
// It is plain Go, the same on every architecture: the execgate binary
// plays it under the name codex-execve-wrapper (a symlink the server makes).
//
// It must also be as invisible as it can be when the answer is Run: the
// program gets the same argv, environment, working directory and
// descriptors it would have got from Bash directly. A few things the Go
// runtime does before any wrapper code runs cannot be undone from Go, and
// are the known limits of that transparency: it replaces an inherited
// SIG_IGN and unblocks a few signals (signal_linux.go lists which), and it
// opens /dev/null on any of descriptors 0, 1, 2 that was closed, so `cmd
// <&-` gives cmd an empty stdin rather than a closed one. The RLIMIT_NOFILE
// soft limit it raises is restored by syscall.Exec. The environment it
// hands over drops empty entries and all but the first of entries that
// repeat a name (Bash passes neither). Also, the runtime reads
// GODEBUG, GOGC, GOMAXPROCS and friends from the environment meant for the
// program (GODEBUG=inittrace=1 makes the wrapper itself print its trace),
// and until the wrapper knows the answer a SIGQUIT makes it dump goroutines
// and exit 2 rather than die of the signal.
//
// Anything unexpected on the protocol fails closed: one line on stderr, exit
// status 126, nothing run.
package wrapper
