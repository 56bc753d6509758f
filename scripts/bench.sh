#!/usr/bin/env bash
# Whole-process benchmark of intercepted execs (targets: docs/architecture.md,
# "Performance budget"): microseconds
# per `/bin/true` start in a Bash loop, median of several runs, all measured in
# the same run so the figures compare:
#   plain bash        the system /bin/bash, no wrapper
#   patched, no wrap  our patched Bash without EXEC_WRAPPER
#   run               patched Bash under a server answering every exec Run: the
#                     Bash's in-shell client asks and execs the program itself
#   escalate          ... every exec answered Escalate (runs outside, stdio
#                     passed by the in-shell client)
# EXEC_WRAPPER (execgate as codex-execve-wrapper) is set too, as the server
# sets it, but the patched Bash only uses it when it has no escalate socket.
# Then the Go round-trip benchmark of one request/response.
# Env: N (execs per run, default 1000), RUNS (default 7).
set -euo pipefail
cd "$(dirname "$0")/.."
export CGO_ENABLED=0
n=${N:-1000}
runs=${RUNS:-7}
patched=$(scripts/build-bash.sh | tail -n 1)
make -s build >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/benchexec" ./scripts/benchexec
ln -s "$PWD/build/execgate" "$tmp/codex-execve-wrapper"

row() { # label, benchexec args... -> prints "wall cpu" (us per exec)
  local label=$1; shift
  local out wall spread shell server
  out=$("$tmp/benchexec" -n "$n" -runs "$runs" "$@")
  IFS=$'\t' read -r wall spread shell server <<<"$out"
  printf '%-22s %8s us/exec wall (runs: %s); CPU %s us shell side + %s us server\n' "$label" "$wall" "$spread" "$shell" "$server" >&2
  awk -v w="$wall" -v a="$shell" -v b="$server" 'BEGIN { printf "%s %.1f\n", w, a + b }'
}
echo "execs per run: $n, runs: $runs, $(nproc) cores, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
plain=$(row "plain bash" -bash /bin/bash -mode plain)
nowrap=$(row "patched, no wrapper" -bash "$patched" -mode plain)
run=$(row "run (in-shell)" -bash "$patched" -wrapper "$tmp/codex-execve-wrapper" -mode run)
esc=$(row "escalate (in-shell)" -bash "$patched" -wrapper "$tmp/codex-execve-wrapper" -mode escalate)
# Wall time is the target's measure; CPU time (shell side plus server) is
# what a loaded machine inflates least, so both are given.
awk -v p="$plain" -v r="$run" -v e="$esc" 'BEGIN {
  split(p, P, " "); split(r, R, " "); split(e, E, " ")
  printf "overhead over plain bash: run %.0f us wall, %.0f us CPU (target <= 100); escalate %.0f us wall, %.0f us CPU (target <= 700)\n", R[1]-P[1], R[2]-P[2], E[1]-P[1], E[2]-P[2] }'
echo "Go round trip (escalate package):"
go test -run '^$' -bench 'RoundTrip' -benchtime 2000x ./escalate/ | grep -E '^Benchmark'
