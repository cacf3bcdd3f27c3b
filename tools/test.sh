#!/bin/sh
# test.sh: run the spec suite inside the vnet host, with a /tmp of its own
# (tools/private-tmp.sh). The last line of the output is "N passed, N
# failed, N skipped"; the exit status is non-zero when anything failed.
set -u
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
sh tools/private-tmp.sh busted --lua=build/vnet -o spec/support/summary.lua \
  "$@" spec 2>&1 | tee "$out"
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
[ -n "$summary" ] || { echo "0 passed, 1 failed"; exit 1; }
failed=$(echo "$summary" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
[ "$failed" = 0 ]
