// Package security holds execgate's attack tests: each one performs an attack
// an agent could try from inside a `shell` call, through the real server
// binary, the real patched Bash and the real sandbox, as root and as an
// unprivileged user, and fails if the attacker's payload ran outside the
// sandbox or a rule was sidestepped.
//
// The package has no code of its own; the tests build execgate and drive it
// over its stdio with the MCP SDK's client, as an MCP client would.
package security
