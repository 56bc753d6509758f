#!/usr/bin/env bash
# Runs every Go fuzz target in the module for a few seconds each, on top of the
# seed corpus that plain `go test` already replays. FUZZTIME overrides the
# per-target budget (default 5s).
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-5s}
status=0
for pkg in $(go list ./...); do
  targets=$(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true)
  for target in $targets; do
    echo "fuzz: $pkg $target ($fuzztime)" >&2
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >/tmp/execgate-fuzz.log 2>&1; then
      cat /tmp/execgate-fuzz.log >&2
      status=1
    fi
  done
done
exit $status
