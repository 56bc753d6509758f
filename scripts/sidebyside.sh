#!/usr/bin/env bash
# execgate side by side with the server it re-implements, in one command:
#   scripts/sidebyside.sh [-rounds 4] [-n 300] [-duration 5s] [-command true] ...
# Fetches the original (codex-exec-mcp-server, its execve wrapper and patched
# Bash from npm @openai/codex-shell-tool-mcp@0.97.0) and Codex 0.97 (its
# codex-linux-sandbox, which the original needs for workspace-write) into
# build/ once, builds execgate and the patched Bash, then runs
# scripts/sidebyside (flags are passed on; see its -help). When npm or the
# registry is unavailable it compares with plain `bash -c` and says so.
# Runs on linux/amd64 (the original's binaries are for x86_64).
set -euo pipefail
cd "$(dirname "$0")/.."
export CGO_ENABLED=0
version=0.97.0
orig=build/original/$version
codex=build/codex/$version/codex # shared with scripts/codexe2e

# fetch PACKAGE DEST MEMBER...: unpack MEMBERs of the npm tarball into DEST.
fetch() {
  local pkg=$1 dest=$2; shift 2
  command -v npm >/dev/null || { echo "npm is not installed" >&2; return 1; }
  local tmp
  tmp=$(mktemp -d)
  local tgz
  if ! tgz=$(cd "$tmp" && npm pack --silent --fetch-timeout=60000 --fetch-retries=1 "$pkg" | tail -n 1); then
    rm -rf "$tmp"
    return 1
  fi
  tar -xzf "$tmp/$tgz" -C "$tmp" "$@"
  mkdir -p "$dest"
  for m in "$@"; do cp -a "$tmp/$m" "$dest/"; done
  rm -rf "$tmp"
}

have_original=1
triple=package/vendor/x86_64-unknown-linux-musl
if [[ ! -x $orig/codex-exec-mcp-server ]]; then
  fetch "@openai/codex-shell-tool-mcp@$version" "$orig" \
    "$triple/codex-exec-mcp-server" "$triple/codex-execve-wrapper" "$triple/bash" || have_original=0
fi
if [[ $have_original == 1 && ! -x $codex ]]; then
  fetch "@openai/codex@$version" "$(dirname "$codex")" "$triple/codex/codex" || have_original=0
fi

# The original's launcher picks its Bash by /etc/os-release; the same here:
# ID (or ID_LIKE) and VERSION_ID, else the first build it ships.
pick_bash() {
  local id="" like="" ver="" d
  if [[ -r /etc/os-release ]]; then
    id=$(. /etc/os-release; echo "${ID:-}")
    like=$(. /etc/os-release; echo "${ID_LIKE:-}")
    ver=$(. /etc/os-release; echo "${VERSION_ID:-}")
  fi
  for d in "$orig/bash/$id-$ver"* ; do [[ -x $d/bash ]] && { echo "$d/bash"; return; }; done
  for x in $id $like; do
    for d in "$orig/bash/$x-"*; do [[ -x $d/bash ]] && { echo "$d/bash"; return; }; done
  done
  for d in "$orig"/bash/*; do [[ -x $d/bash ]] && { echo "$d/bash"; return; }; done
}

patched=${EXECGATE_BASH:-$(scripts/build-bash.sh | tail -n 1)}
make -s build >&2
args=(-execgate build/execgate -bash "$patched")
if [[ $have_original == 1 ]]; then
  args+=(-original "$PWD/$orig" -original-bash "$PWD/$(pick_bash)" -codex "$PWD/$codex")
else
  echo "sidebyside: the original could not be fetched from npm; comparing with plain bash -c instead" >&2
fi
go run ./scripts/sidebyside "${args[@]}" "$@"
