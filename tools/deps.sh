#!/bin/sh
# deps.sh: install the Debian packages vnet needs to build and test, once.
# Safe to run again: it only calls apt-get for what is missing. Extra
# package names given as arguments are installed too (make bench).
set -e
PKGS="gcc make pkg-config lua5.4 liblua5.4-dev libnl-3-dev libnl-route-3-dev
      libreadline-dev libpcap0.8-dev lua-busted lua-dkjson luarocks iproute2 iputils-ping
      tcpdump tshark tmux util-linux procps netcat-openbsd iperf3 $*"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "deps: missing Debian packages:$missing (run as root to install them)" >&2
  exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
