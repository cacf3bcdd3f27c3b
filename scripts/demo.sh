#!/bin/sh
# demo.sh: the README's demo. In a scratch network namespace (unshare -n:
# private, gone when the demo ends, your own network untouched) it starts
# scripts/icmp-responder.lua on a TUN and pings through it: every reply
# you see was built by a Lua callback.
set -eu
cd "$(dirname "$0")/.."
exec unshare --net sh -c '
  ip link set lo up
  build/vnet scripts/icmp-responder.lua vnet-demo 10.9.0.1 10.9.0.2 &
  pid=$!
  for i in $(seq 50); do ip link show vnet-demo >/dev/null 2>&1 && break; sleep 0.1; done
  sleep 0.2
  echo "--- ip addr show vnet-demo"
  ip addr show vnet-demo
  echo "--- ping -c 4 10.9.0.2 (answered from Lua)"
  ping -c 4 -i 0.3 -W 1 10.9.0.2
  sleep 0.1
  echo "--- kill -TERM: the loop ends cleanly and the script closes its TUN"
  kill -TERM $pid; wait $pid
  echo "--- after the script ends, the device is gone:"
  ip link show vnet-demo 2>&1 || true
'
