// Package sandbox confines the agent's Bash: the sandbox policies (Codex's
// read-only, workspace-write and danger-full-access, with their JSON shapes),
// the writable roots and protected paths they imply, and the Linux helper
// that applies namespaces, Landlock and a seccomp filter to itself before it
// starts Bash.
//
// The server builds a [Spec] per call and asks a [Launcher] for the command;
// the command re-executes the execgate binary in its hidden "sandbox" role
// ([HelperMain]), which sets up the confinement and runs Bash under it. A
// mode the kernel cannot enforce is an error (fail closed) that names the
// missing feature and the opt-out, danger-full-access.
package sandbox
