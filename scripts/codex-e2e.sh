#!/usr/bin/env bash
# Drives the real Codex CLI 0.171 and 0.97 (fetched from npm into build/codex,
# or $EXECGATE_CODEX_CACHE) against execgate with an offline model
# (scripts/mockmodel): codex exec under -s workspace-write and -s read-only,
# and the TUI (through tmux) approving a prompt rule. The same test runs in
# `make test`; this runs it alone and verbosely. Needs npm and tmux, and the
# patched Bash ($EXECGATE_TEST_BASH, else it is built).
set -euo pipefail
cd "$(dirname "$0")/.."
exec go test -count=1 -v -timeout 20m -run 'TestCodexEndToEnd' ./scripts/codexe2e/ "$@"
