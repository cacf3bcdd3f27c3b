#!/bin/sh
# private-tmp.sh: run a command in a mount namespace of its own whose /tmp
# is a fresh tmpfs. The spec suite runs this way (tools/test.sh,
# fuzz/test-asan.sh): the temporary files its specs and their children make
# (os.tmpname's /tmp/lua_*, sockets, captures) go away with it, and two
# runs at once never see each other's.
# Example: sh tools/private-tmp.sh busted --lua=build/vnet spec/tun_spec.lua
exec unshare --mount --propagation private sh -c \
  'mount -t tmpfs -o mode=1777 vnet-tmp /tmp && exec "$@"' private-tmp "$@"
