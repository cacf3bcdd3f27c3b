#!/bin/sh
# profile.sh: where a forwarder's time goes. For each contestant, the user
# and system CPU time (from /proc/PID/stat, in 1/100 s) the forwarder
# process used during a 3 s iperf3 TCP run, and what that run carried.
# Run as root from the repository (after make bench built build/bench/cfwd):
#   sh bench/profile.sh
# Like run.sh, it works in a private mount namespace with its own /run.
set -eu
cd "$(dirname "$0")/.."
exec unshare --mount --propagation private sh -c '
mount -t tmpfs vnet-profile /run && mkdir /run/netns || exit 1
ip netns add vbA; ip netns add vbB
run() {
  $2 > /dev/null 2>&1 &
  pid=$!
  sleep 0.8
  ip -n vbA link set lo up; ip -n vbB link set lo up
  ip -n vbA addr add 10.200.0.1 peer 10.200.0.2 dev fa; ip -n vbA link set fa up
  ip -n vbB addr add 10.200.0.2 peer 10.200.0.1 dev fb; ip -n vbB link set fb up
  ip netns exec vbB iperf3 -s -1 >/dev/null 2>&1 &
  sleep 0.3
  set -- "$1" $(cut -d" " -f14,15 /proc/$pid/stat)
  r=$(ip netns exec vbA iperf3 -c 10.200.0.2 -t 3 -f m | awk "/receiver/ {print \$7}")
  set -- "$@" $(cut -d" " -f14,15 /proc/$pid/stat)
  echo "| $1 | $r | $(($4 - $2)) | $(($5 - $3)) | $(( ($4 - $2 + $5 - $3) / 3 ))% |"
  kill -TERM $pid; wait $pid 2>/dev/null || true; sleep 0.3
}
echo "| forwarder | TCP Mbit/s | user cs | sys cs | of one core |"
echo "|---|---|---|---|---|"
run "C read/write loop" "build/bench/cfwd vbA vbB"
run "vnet plain" "build/vnet bench/fwd.lua plain vbA vbB"
run "vnet offload, per segment" "build/vnet bench/fwd.lua seg vbA vbB"
run "vnet offload, whole" "build/vnet bench/fwd.lua whole vbA vbB"
run "Python loop" "/usr/bin/python3 bench/pyfwd.py vbA vbB"
'
