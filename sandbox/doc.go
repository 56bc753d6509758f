// Package sandbox confines the agent's Bash: the sandbox policies (Codex's
// read-only, workspace-write and danger-full-access, and the permission
// profiles later Codex builds send instead, with their JSON shapes), the
// Layout each implies for a call (readable and writable paths, protected
// and denied ones: layout.go, the one place that computes them), and the
// plan for the Linux helper that applies namespaces, Landlock and a seccomp
// filter to itself before it starts Bash.
//
// The server probes the machine once with [NewLauncher] and starts one
// helper per call ([Launcher.Start]). The server decides everything it can
// ahead (the mounts with the identities of their paths, the Landlock
// ruleset, the seccomp programs) and the helper, C in the sandbox launcher
// (nsexec/), only applies that plan. It is started for the call or, when
// one is ready, a spare started ahead ([Launcher.Prepare]) that receives
// the call over a private socket; either way it
//
//   - in new user, mount and pid namespaces (when the kernel allows them)
//     makes every mount read-only but the writable roots and files (so
//     that chmod, chown, utimes and setxattr, which Landlock does not
//     confine, fail outside them), mounts .git, .codex and .agents of every writable root read-only (a
//     missing one is first created as an empty directory, which git and
//     Codex ignore, so that it cannot be created later) together with the
//     directory a `.git` file points to and the paths a profile makes
//     read-only, hides denied paths under empty read-only mounts, and gives
//     the call its own /proc;
//   - applies Landlock (read and execute on the readable paths, usually
//     everywhere; everything on the writable roots; read/write on
//     /dev/null, /dev/zero and /dev/tty; signal and abstract-socket
//     scoping) and a seccomp filter (no ptrace, process_vm_*, io_uring_*,
//     foreign architectures or x32; without network no sockets but AF_UNIX
//     stream and seqpacket ones, and no connect, bind, listen, ...;
//     without namespaces no setuid or setgid bit set by chmod);
//   - execs Bash, whose parent, the sandbox launcher's supervisor (C: pid 1
//     of the namespace, or a child subreaper without one), stays outside
//     the sandbox so that nothing the call starts outlives it, relays
//     signals and exits with Bash's status.
//
// A mode the kernel cannot enforce is an [UnenforceableError] that names the
// missing feature and the opt-out, danger-full-access; nothing runs. Without
// user namespaces (containers, AppArmor) Landlock and seccomp still apply but
// the protected paths are not enforced (see [Capabilities.ProtectsPaths]),
// nor are file attributes outside the writable roots, but for the setid
// bits ([AttributesUnprotected]).
//
// What a call may write, protected paths included, is its [Protection]:
// [Launcher.Observe] reports each started call's, and
// [Launcher.Protection] computes one without starting anything. Code that
// trusts what the sandbox kept read-only takes it from there.
package sandbox
