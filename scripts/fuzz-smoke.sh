#!/usr/bin/env bash
# Runs every Go fuzz target in the module for a fixed number of executions, on
# top of the seed corpus that plain `go test` already replays. FUZZTIME
# overrides the per-target budget (default 100000x). FuzzServerRequests, which
# starts a server session per input (about a millisecond), gets a tenth of it.
#
# The budget is a count, not a duration, on purpose: with a duration Go 1.26's
# fuzz coordinator can race its own deadline and fail the target with a bare
# "context deadline exceeded" and no crasher (golang/go#75804, fixed in Go 1.27).
# A count has no deadline to race. A real finding still fails the run and is
# written to testdata/fuzz/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-100000x}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
for pkg in $(go list ./...); do
  targets=$(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true)
  for target in $targets; do
    budget=$fuzztime
    if [[ $target == FuzzServerRequests && $budget =~ ^([0-9]+)x$ ]]; then
      budget=$(( (BASH_REMATCH[1] + 9) / 10 ))x
    fi
    echo "fuzz: $pkg $target ($budget)" >&2
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$budget" "$pkg" >"$log" 2>&1; then
      cat "$log" >&2
      status=1
    fi
  done
done
exit $status
