#!/usr/bin/env bash
# Installs execgate under a prefix (default ~/.local):
#   PREFIX/bin/execgate                      the binary
#   PREFIX/bin/codex-execve-wrapper          symlink to it (the wrapper role)
#   PREFIX/libexec/execgate/bash             the patched Bash
#   PREFIX/libexec/execgate/execgate-nsexec  the namespace launcher
# The server finds the patched Bash there without flags, and the launcher
# next to it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:-${PREFIX:-$HOME/.local}}
bin="$repo/build/execgate"
bash_bin="$repo/build/bash/bin/bash"
nsexec_bin="$repo/build/bash/bin/execgate-nsexec"
for f in "$bin" "$bash_bin" "$nsexec_bin"; do
  [ -x "$f" ] || { echo "install: $f is missing; run 'make build bash' first" >&2; exit 1; }
done
install -d "$prefix/bin" "$prefix/libexec/execgate"
install -m 0755 "$bin" "$prefix/bin/execgate"
ln -sfn execgate "$prefix/bin/codex-execve-wrapper"
install -m 0755 "$bash_bin" "$prefix/libexec/execgate/bash"
install -m 0755 "$nsexec_bin" "$prefix/libexec/execgate/execgate-nsexec"
echo "installed execgate to $prefix/bin (patched bash: $prefix/libexec/execgate/bash)" >&2
echo "$prefix/bin/execgate"
