// Package codexe2e drives the real Codex CLI (0.171 and 0.97, from npm)
// against execgate with an offline model (scripts/mockmodel): `codex exec`
// writes its workspace through execgate under -s workspace-write and is
// refused under -s read-only, and the TUI (driven through tmux) approves a
// `prompt` rule. The tests fetch the Codex binaries with `npm pack` into
// build/codex (or $EXECGATE_CODEX_CACHE) and skip, saying why, when npm,
// the registry or tmux is missing. scripts/codex-e2e.sh runs them.
package codexe2e
