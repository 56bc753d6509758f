#!/usr/bin/env bash
# Prints the version `go build` stamps into a binary built from a git clone
# (Go's pseudo-version of HEAD, "+dirty" with uncommitted changes), so that
# `make build` passes the same string with -ldflags -X where Go cannot stamp
# it (a git worktree, GOFLAGS=-buildvcs=false). Prints nothing outside git.
set -euo pipefail
cd "$(dirname "$0")/.."
git rev-parse --git-dir >/dev/null 2>&1 || exit 0
rev=$(git rev-parse --short=12 HEAD)
when=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S HEAD)
dirty=
if [[ -n $(git status --porcelain 2>/dev/null) ]]; then
  dirty=+dirty
fi
if tag=$(git describe --tags --exact-match --match 'v[0-9]*.[0-9]*.[0-9]*' HEAD 2>/dev/null); then
  echo "$tag$dirty"
elif tag=$(git describe --tags --abbrev=0 --match 'v[0-9]*.[0-9]*.[0-9]*' HEAD 2>/dev/null) && [[ $tag =~ ^(v[0-9]+\.[0-9]+\.)([0-9]+)$ ]]; then
  echo "${BASH_REMATCH[1]}$((BASH_REMATCH[2] + 1))-0.$when-$rev$dirty"
else
  echo "v0.0.0-$when-$rev$dirty"
fi
