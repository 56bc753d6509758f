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

row() { # label, benchexec args...
  local label=$1; shift
  local out
  out=$("$tmp/benchexec" -n "$n" -runs "$runs" "$@")
  printf '%-22s %8s us/exec   (runs: %s)\n' "$label" "${out%%$'\t'*}" "${out#*$'\t'}" >&2
  echo "${out%%$'\t'*}"
}
echo "execs per run: $n, runs: $runs, $(nproc) cores, kernel $(uname -r)"
plain=$(row "plain bash" -bash /bin/bash -mode plain)
nowrap=$(row "patched, no wrapper" -bash "$patched" -mode plain)
run=$(row "run (in-shell)" -bash "$patched" -wrapper "$tmp/codex-execve-wrapper" -mode run)
esc=$(row "escalate (in-shell)" -bash "$patched" -wrapper "$tmp/codex-execve-wrapper" -mode escalate)
awk -v p="$plain" -v r="$run" -v e="$esc" 'BEGIN {
  printf "overhead over plain bash: run %.0f us (target <= 100), escalate %.0f us (target <= 700)\n", r-p, e-p }'
echo "Go round trip (escalate package):"
go test -run '^$' -bench 'RoundTrip' -benchtime 2000x ./escalate/ | grep -E '^Benchmark'
