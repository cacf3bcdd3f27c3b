#!/bin/sh
# run.sh: `make bench`. Runs bench/bench.lua in a private mount namespace
# whose /run/netns is its own tmpfs, so the namespaces it names with
# `ip netns add` never show up on the machine and vanish with the run.
set -eu
cd "$(dirname "$0")/.."
exec unshare --mount --propagation private sh -c '
  mkdir -p /run/netns && mount -t tmpfs vnet-bench /run/netns
  exec build/vnet bench/bench.lua "$@"' bench "$@"
