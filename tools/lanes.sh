#!/bin/sh
# lanes.sh: `make test`. Runs each test lane in turn and ends with one line
# summing them all: "N passed, N failed, N skipped". A lane's own summary
# is repeated as "lane NAME: ..." so the last bare summary line is the sum.
#   lane 1 (local): the spec suite on this machine's kernel (tools/test.sh)
#   lane 2 (kernel): the spec suite in Debian's full kernel under qemu
#   lane asan: the spec suite again in an ASan+UBSan build (fuzz/test-asan.sh)
#   lane fuzz: the seed corpus and 20 s of libFuzzer (fuzz/lane.sh)
#   lane fresh: make demo + make test in a fresh Debian 12 root, from
#     nothing installed (tools/fresh-root.sh; it runs the other lanes but
#     kernel inside)
# VNET_LANES="local" (or any subset of the names) runs a subset.
set -u
cd "$(dirname "$0")/.."
LANES=${VNET_LANES:-"local kernel asan fuzz fresh"}
total_p=0 total_f=0 total_s=0 status=0
log=$(mktemp) failures=$(mktemp)
trap 'rm -f "$log" "$failures"' EXIT
for lane in $LANES; do
  case $lane in
    local)  cmd="sh tools/test.sh" ;;
    kernel) cmd="bash tools/kernel-lane.sh" ;;
    asan)   cmd="make --no-print-directory test-asan" ;;
    fuzz)   cmd="sh fuzz/lane.sh" ;;
    fresh)  cmd="bash tools/fresh-root.sh" ;;
    *) echo "lanes: unknown lane '$lane'"; exit 2 ;;
  esac
  echo "==== lane $lane: $cmd"
  $cmd 2>&1 | tee "$log"
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  [ -n "$line" ] || line="0 passed, 1 failed, 0 skipped"
  p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
  f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
  s=$(echo "$line" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p')
  s=${s:-0}
  echo "lane $lane: $line"
  total_p=$((total_p + p)) total_f=$((total_f + f)) total_s=$((total_s + s))
  [ "$f" = 0 ] || status=1
  # what failed, kept for the recap: a lane's output is long, and a CI log
  # that keeps only its tail must still name the failing test. (The kernel
  # lane shows the guest's lines behind "vm| ", the fresh root its own
  # checks behind "fresh-root: ".)
  if [ "$f" != 0 ]; then
    {
      echo "-- lane $lane: $line"
      sed 's/^vm| //' "$log" | grep -E '^(fresh-root: )?(FAIL|ERROR) ' |
        head -n 20
      sed 's/^vm| //' "$log" |
        sed -n '/^---- failures and errors ----$/,/^[0-9]* passed, /p' |
        grep -Ev '^(---- failures and errors ----|[0-9]+ passed, .*)$' |
        head -n 60
    } >> "$failures"
  fi
done
if [ -s "$failures" ]; then
  echo "==== what failed, lane by lane"
  cat "$failures"
fi
echo "$total_p passed, $total_f failed, $total_s skipped"
exit $status
