#!/usr/bin/env bash
# Exec-heavy real workload: `./configure` of the Bash source tree, run by Bash
# (CONFIG_SHELL=bash, so every test program configure starts is an exec the
# shell decides), timed three ways in the same run:
#   plain bash         the system Bash, no server
#   patched, no server our patched Bash without interception
#   under execgate     `execgate run` (workspace-write, no rules): the
#                      patched Bash in the real sandbox, every exec decided,
#                      every program start also checked by the kernel gate
#   without kernel gate the same with --no-kernel-gate
# Prints the median wall time of each and the overhead of the last over the
# first (target: within 10%). The configure runs in a fresh out-of-tree build
# directory each time, from the pristine source tarball scripts/build-bash.sh
# already fetched.
# Env: RUNS (default 3), EXECGATE (default build/execgate, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
runs=${RUNS:-3}
patched=$(scripts/build-bash.sh | tail -n 1)
execgate=${EXECGATE:-$repo/build/execgate}
[ -x "$execgate" ] || make -s build >&2

tarball=$(ls "$repo"/build/bash-src/apt/bash_*.orig.tar.gz "$repo"/build/bash-src/bash-*.tar.gz 2>/dev/null | head -n 1 || true)
[ -n "$tarball" ] || {
  echo "bench-workload: no Bash source tarball under build/bash-src (run scripts/build-bash.sh)" >&2
  exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$tarball" -C "$tmp"
src=$(echo "$tmp"/bash-*/)
src=${src%/}

# The configuration home must lie outside the sandbox's writable roots
# (execgate refuses rules the sandbox could write), and hold no rules.
home=$repo/build/bench-home
rm -rf "$home" && mkdir -p "$home"

now() { date +%s.%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# time_configure LABEL COMMAND...: prints the median seconds of RUNS runs of
# COMMAND in a fresh build directory ($dir), each checked for success.
time_configure() {
  local label=$1
  shift
  local times=()
  for _ in $(seq "$runs"); do
    dir=$(mktemp -d "$tmp/build.XXXX")
    local t0 t1
    t0=$(now)
    (cd "$dir" && "$@") >"$dir.log" 2>&1 || {
      echo "bench-workload: $label failed, log:" >&2
      tail -n 20 "$dir.log" >&2
      exit 1
    }
    t1=$(now)
    grep -q 'creating Makefile' "$dir.log" || {
      echo "bench-workload: $label did not create the Makefile" >&2
      exit 1
    }
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
  done
  local m
  m=$(printf '%s\n' "${times[@]}" | median)
  printf '%-20s %7.2f s   (runs: %s)\n' "$label" "$m" "${times[*]}" >&2
  echo "$m"
}

configure=(--disable-nls --without-bash-malloc)
echo "./configure of $(basename "$src"), runs: $runs, $(nproc) cores, kernel $(uname -r)"
plain=$(time_configure "plain bash" env CONFIG_SHELL=/bin/bash /bin/bash "$src/configure" "${configure[@]}")
nowrap=$(time_configure "patched, no server" env -u EXEC_WRAPPER -u BASH_EXEC_WRAPPER CONFIG_SHELL="$patched" "$patched" "$src/configure" "${configure[@]}")
under=$(time_configure "under execgate" env EXECGATE_HOME="$home" "$execgate" run --bash "$patched" --timeout 20m -- \
  "CONFIG_SHELL=$patched $patched $src/configure ${configure[*]}")
nogate=$(time_configure "  without kernel gate" env EXECGATE_HOME="$home" "$execgate" run --bash "$patched" --timeout 20m --no-kernel-gate -- \
  "CONFIG_SHELL=$patched $patched $src/configure ${configure[*]}")
awk -v p="$plain" -v n="$nowrap" -v u="$under" -v g="$nogate" 'BEGIN {
  printf "under execgate: %+.1f%% over plain bash with the kernel gate (target within 15%%), %+.1f%% without it (target within 10%%); patched without server %+.1f%%\n", (u / p - 1) * 100, (g / p - 1) * 100, (n / p - 1) * 100 }'
