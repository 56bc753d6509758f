// Package escalate is the wrapper↔server protocol of execgate, compatible with
// Codex 0.97.0's exec-server: the messages, sent on a unix stream socket in
// internal/frame's framing (u32 little-endian length + JSON, file descriptors
// in SCM_RIGHTS),
// the datagram handshake that hands each exec its own stream, and the server
// side that decides each request and runs escalated commands: the file the
// request names resolved once (internal/resolve), with argv[0] the name the
// rule matched and the server's environment (EnvPolicy, plus what the
// Decision sets), under a per-call reaper process that kills everything they
// start when the call ends (ReaperMain), within per-call and per-server
// bounds (Limits).
//
// Everything here uses raw unix.Sendmsg/Recvmsg on file descriptors rather than
// net.Conn: the datagram socket is shared with every process of the sandboxed
// call, and net.FileConn would flip O_NONBLOCK on that shared description and
// call syscalls (getsockopt) the sandbox denies.
package escalate
