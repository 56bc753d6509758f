#!/usr/bin/env bash
# Installs execgate under a prefix (default ~/.local):
#   PREFIX/bin/execgate                           the binary
#   PREFIX/libexec/execgate/bash                  the patched Bash
#   PREFIX/libexec/execgate/execgate-nsexec       the sandbox launcher and helper
#   PREFIX/libexec/execgate/execgate-sandbox      the escalate reaper
#   PREFIX/libexec/execgate/codex-execve-wrapper  the execve wrapper
#                                                 (`execgate install-helpers`)
# The server finds the patched Bash, the launcher and the wrapper there
# without flags or a writable $HOME. Nothing named bash goes on the PATH.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:-${PREFIX:-$HOME/.local}}
bin="$repo/build/execgate"
bash_bin="$repo/build/bash/bin/bash"
nsexec_bin="$repo/build/bash/bin/execgate-nsexec"
helper_bin="$repo/build/execgate-sandbox"
for f in "$bin" "$bash_bin" "$nsexec_bin" "$helper_bin"; do
  [ -x "$f" ] || { echo "install: $f is missing; run 'make build bash' first" >&2; exit 1; }
done
install -d "$prefix/bin" "$prefix/libexec/execgate"
prefix=$(cd "$prefix" && pwd)
libexec="$prefix/libexec/execgate"
install -m 0755 "$bin" "$prefix/bin/execgate"
install -m 0755 "$bash_bin" "$libexec/bash"
install -m 0755 "$nsexec_bin" "$libexec/execgate-nsexec"
install -m 0755 "$helper_bin" "$libexec/execgate-sandbox"
# Earlier installs linked the wrapper into bin/; it lives in libexec now.
if [ -L "$prefix/bin/codex-execve-wrapper" ] && [ "$(readlink "$prefix/bin/codex-execve-wrapper")" = execgate ]; then
  rm -f "$prefix/bin/codex-execve-wrapper"
fi
"$prefix/bin/execgate" install-helpers "$libexec"
echo "installed execgate to $prefix/bin (patched Bash, sandbox launcher, escalate reaper and wrapper: $libexec)" >&2
echo "$prefix/bin/execgate"
