// Package wrapper is the execve wrapper: the process a patched Bash runs
// instead of every program it starts, as
//
//	WRAPPER FILE ARGV0 ARGV1...
//
// It asks the execgate server (over the socket named by CODEX_ESCALATE_SOCKET)
// what to do, then either execs FILE in place (Run), hands its stdio to the
// server which runs FILE outside the sandbox (Escalate), or refuses (Deny).
//
// The wrapper starts once per program the agent's shell runs, so the Run path
// is kept to a handful of syscalls: no package init work, no reflection, no
// goroutines. It must also be invisible when the answer is Run: the program
// gets the same argv, environment, working directory, descriptors, signal
// dispositions and signal mask it would have got from Bash directly (see
// signal_linux.go for what the Go runtime lets us preserve).
//
// Two things the Go runtime does before any wrapper code runs cannot be
// undone exactly, and are the known limits of that transparency: it replaces
// an inherited SIG_IGN and unblocks a few signals (signal_linux.go lists
// which), and it opens /dev/null on any of descriptors 0, 1, 2 that was
// closed, so `cmd <&-` gives cmd an empty stdin rather than a closed one. The
// RLIMIT_NOFILE soft limit it raises is restored by syscall.Exec. Also, the
// runtime reads GODEBUG, GOGC, GOMAXPROCS and friends from the environment
// meant for the program (GODEBUG=inittrace=1 makes the wrapper itself print
// its trace), and until the wrapper knows the answer a SIGQUIT makes it dump
// goroutines and exit 2 rather than die of the signal.
//
// Builds linked with the early entry point (the Makefile's, on linux/amd64)
// avoid those limits in the common case: before the runtime starts,
// fastpath_linux_amd64.s sends the request and, when the answer is exactly
// Run, execs the program itself, so the runtime never starts and none of the
// above applies. That is also what keeps the wrapper's cost per program
// start under a millisecond. When the answer is exactly Escalate it also does
// what superExec does (escalate_linux.go), down to the wrapper's exit, as
// long as the server's result is in the form the server writes; anything
// unusual after that point is handed to the Go code mid-way (handover.go).
// Requests it cannot encode verbatim (bytes JSON escapes, invalid UTF-8,
// duplicate or empty environment entries), a closed descriptor 0-2, and
// Deny or any other answer go through the Go code.
//
// Anything unexpected on the protocol fails closed: one line on stderr, exit
// status 126, nothing run.
package wrapper
