#!/usr/bin/env bash
# Fuzz every fuzz target in the module for a while each (default 1m).
# New crashers land in the package's testdata/fuzz/ and fail `make test`.
set -euo pipefail
fuzztime=${1:-1m}
cd "$(dirname "$0")/.."
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    echo "fuzz: $pkg $target for $fuzztime"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
  done
done
