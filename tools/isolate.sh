#!/bin/sh
# isolate.sh: run a command (a spec file, the suite) in a private network and
# mount namespace with its own /run/netns and /sys, so that several runs at
# once on one machine neither see nor disturb each other or the machine.
# Example: sh tools/isolate.sh busted --lua=build/vnet -o spec/support/summary.lua spec/veth_spec.lua
exec unshare --mount --net --propagation private sh -c '
  mkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns &&
  mount -t sysfs sysfs /sys && ip link set lo up && exec "$@"' isolate "$@"
