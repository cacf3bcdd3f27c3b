#!/bin/sh
# test-asan.sh: the whole spec suite in the AddressSanitizer + UBSan build
# of the host (make test-asan builds it: build/asan/vnet), with leak
# checking on. Every vnet process the specs start (scripts run as written,
# the REPL under a pty) is that build too (VNET_BIN). Sanitizer reports go
# to files, one per process that had one, and are printed at the end.
# The status is non-zero when a spec failed or any report was written.
set -u
cd "$(dirname "$0")/.."
bin=${1:-build/asan/vnet}
[ $# -gt 0 ] && shift
[ -x "$bin" ] || { echo "test-asan: $bin is missing (make asan)"; exit 1; }
logs=$(mktemp -d)
out=$(mktemp)
VNET_TEST_TMPDIR=$(mktemp -d) && chmod 1777 "$VNET_TEST_TMPDIR" || exit 1
export VNET_TEST_TMPDIR # the specs' temporary files (spec/support/tmpfiles.lua)
trap 'rm -rf "$logs" "$out" "$VNET_TEST_TMPDIR"' EXIT
export ASAN_OPTIONS="detect_leaks=1:log_path=$logs/asan:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan"
export VNET_BIN="$bin"
export VNET="$PWD/$bin" # spec/repl_spec.lua
[ $# -gt 0 ] || set -- spec # or the spec files given after the binary
busted --lua="$bin" -o spec/support/summary.lua \
  --helper=spec/support/tmpfiles.lua "$@" 2>&1 | tee "$out"
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
failed=$(echo "$summary" | sed -nE 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/p')
reports=$(ls "$logs")
if [ -n "$reports" ]; then
  echo
  echo "---- sanitizer reports ----"
  for f in "$logs"/*; do echo "== $f"; cat "$f"; done
fi
n=$(ls "$logs" | wc -l)
echo "test-asan: ${summary:-0 passed, 1 failed}; $n sanitizer report(s)"
# The last line again, with each report counted as a failure (tools/lanes.sh
# reads the last "N passed, N failed" line).
passed=$(echo "$summary" | sed -nE 's/^([0-9]+) passed.*/\1/p')
skipped=$(echo "$summary" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p')
echo "${passed:-0} passed, $(( ${failed:-1} + n )) failed, ${skipped:-0} skipped"
[ "${failed:-1}" = 0 ] && [ "$n" = 0 ]
