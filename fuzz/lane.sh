#!/bin/sh
# lane.sh: the fuzz lane of `make test` (tools/lanes.sh). Builds the
# libFuzzer target, replays every seed in fuzz/corpus, then fuzzes for
# FUZZ_SECONDS (20) seconds. Two checks, each reported as passed or failed
# in a last line "N passed, N failed" as the other lanes end.
set -u
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-20}
pass=0 fail=0
make --no-print-directory fuzz-deps fuzz-build || { echo "0 passed, 2 failed"; exit 1; }
seeds=$(ls fuzz/corpus | wc -l)
if build/fuzz/fuzz_proto -runs=0 fuzz/corpus >/dev/null 2>&1; then
  echo "ok   fuzz: the $seeds seeds in fuzz/corpus run clean"
  pass=$((pass + 1))
else
  echo "FAIL fuzz: a seed in fuzz/corpus crashes (build/fuzz/fuzz_proto -runs=0 fuzz/corpus)"
  fail=$((fail + 1))
fi
if make --no-print-directory fuzz-run FUZZ_SECONDS="$secs" >build/fuzz/last.log 2>&1; then
  echo "ok   fuzz: $secs s of libFuzzer, no crash, no sanitizer report ($(grep -o 'Done [0-9]* runs' build/fuzz/last.log))"
  pass=$((pass + 1))
else
  tail -n 60 build/fuzz/last.log
  echo "FAIL fuzz: libFuzzer found a crash; the input is in build/fuzz/crash-* (see above)"
  fail=$((fail + 1))
fi
echo "$pass passed, $fail failed, 0 skipped"
[ "$fail" = 0 ]
