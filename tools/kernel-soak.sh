#!/bin/bash
# kernel-soak.sh: `make test-kernel-soak`. Runs the kernel lane (lane 2)
# RUNS times in a row (default 10) with every core kept busy by a CPU hog
# (stress-ng), and checks that each run reported the guest's real result:
# the lane's last line is the guest's own SUMMARY (not the "VM stopped
# without reporting" fallback) and the host read both of the guest's last
# words before stopping the VM (tools/kernel-lane.sh, tools/kernel-init.sh).
# That is the check for the lost-ending race of issue 17.
#
#   RUNS=10               how many runs
#   SOAK_HOGS=$(nproc)    stress-ng CPU workers
#   KERNEL_BUSTED_ARGS    as for the lane, e.g. --filter=veth for short runs
# Ends with "N passed, N failed": one test per run.
set -u
cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
HOGS=${SOAK_HOGS:-$(nproc)}
sh tools/deps.sh stress-ng >/dev/null || exit 1
stress-ng --cpu "$HOGS" --timeout 0 --quiet >/dev/null 2>&1 &
hog=$!
trap 'kill "$hog" 2>/dev/null; wait "$hog" 2>/dev/null' EXIT
pass=0 fail=0
for ((n = 1; n <= RUNS; n++)); do
  log=build/kernel/soak-$n.log
  mkdir -p build/kernel
  t0=$(date +%s)
  bash tools/kernel-lane.sh > "$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - t0 ))
  last=$(tail -n 1 "$log")
  guest=$(sed -n 's/^SUMMARY //p' build/kernel/result.txt | tail -n 1)
  if [ -n "$guest" ] && [ "$last" = "$guest" ] &&
     grep -q 'the guest reported in full' "$log"; then
    echo "ok   soak run $n/$RUNS: $last (lane exit $rc, ${secs}s, load $(cut -d' ' -f1 /proc/loadavg))"
    pass=$((pass + 1))
  else
    echo "FAIL soak run $n/$RUNS: lane said '$last', guest said '${guest:-nothing}' (log: $log)"
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
