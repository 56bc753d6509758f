// Package loginenv captures what a login shell's profile sets up, once, and
// replays it in later shells without running the profile again.
//
// A login call (`bash -lc`) runs /etc/profile and the user's profile before
// every command: their programs (each an exec the policy decides), their
// output (mixed into the command's), their time. Instead, the profile runs
// once in a login Bash whose command is Script: it writes the state the
// profile left (exported variables, functions, aliases, shell options) to
// its standard input, a socket the caller reads. Parse reads that dump, and
// Snapshot.Render turns it into a file that a non-login Bash sources
// through BASH_ENV before its command: the command then starts where a
// login shell's would, with nothing run and nothing printed.
//
// What is not carried over: variables the profile set without exporting
// them, traps, the read-only login_shell option (shopt -q login_shell is
// false in the replaying shell), and the effects of the profile outside
// the shell (files it wrote, programs it left running). Stamp tells when
// the profile files changed, so that the caller takes a new snapshot.
//
// The dump is written by code running wherever the profile ran (for
// execgate, inside the sandbox) and is as trusted as the profile itself:
// the rendered file must only ever be sourced where the profile could have
// run, and must be kept where that code cannot write it.
package loginenv
