#!/bin/sh
# test.sh: run the spec suite inside the vnet host. The last line of the
# output is "N passed, N failed, N skipped"; the exit status is non-zero
# when anything failed. The specs' temporary files go into a directory of
# the run's own, removed at its end (spec/support/tmpfiles.lua).
set -u
cd "$(dirname "$0")/.."
out=$(mktemp)
VNET_TEST_TMPDIR=$(mktemp -d) && chmod 1777 "$VNET_TEST_TMPDIR" || exit 1
export VNET_TEST_TMPDIR
trap 'rm -f "$out"; rm -rf "$VNET_TEST_TMPDIR"' EXIT
busted --lua=build/vnet -o spec/support/summary.lua \
  --helper=spec/support/tmpfiles.lua "$@" spec 2>&1 | tee "$out"
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
[ -n "$summary" ] || { echo "0 passed, 1 failed"; exit 1; }
failed=$(echo "$summary" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
[ "$failed" = 0 ]
