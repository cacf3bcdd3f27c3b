#!/bin/sh
# run.sh: `make bench`. Runs bench/bench.lua in a private mount namespace
# whose /run is its own tmpfs, so the namespaces it names with `ip netns add`
# never show up on the machine and vanish with the run. The tmpfs goes on
# /run, not /run/netns: removing a directory detaches mounts on it in every
# mount namespace, and something on the machine may remove /run/netns.
set -eu
cd "$(dirname "$0")/.."
exec unshare --mount --propagation private sh -c '
  mount -t tmpfs vnet-bench /run && mkdir /run/netns || exit 1
  exec build/vnet bench/bench.lua "$@"' bench "$@"
