#!/bin/sh
# deps.sh: install the Debian packages vnet needs, once. Safe to run again:
# it only calls apt-get for what is missing.
#   sh tools/deps.sh           what building and testing need (make demo, make test)
#   sh tools/deps.sh P...      that and the extra packages P (fuzz-deps)
#   sh tools/deps.sh --bench   that and what `make bench` compares vnet with
#                              (iperf3, Python, pyroute2, scapy, Mininet)
#   sh tools/deps.sh --build   only what building needs (tools/config.sh, before
#                              the Makefile asks pkg-config for any flag)
#   sh tools/deps.sh --only P...  only the packages P (a lane's own host tools)
set -e
BUILD_PKGS="gcc make pkg-config lua5.4 liblua5.4-dev libnl-3-dev
            libnl-route-3-dev libreadline-dev libpcap0.8-dev liburing-dev
            liburing2"
TEST_PKGS="lua-busted lua-dkjson luarocks iproute2 iputils-ping tcpdump tshark
           tmux util-linux procps netcat-openbsd iperf3 lua-luv lua-cqueues"
# make bench's contestants (its rows for one that is missing say so), and
# linux-perf and valgrind for the profiles of bench/RESULTS.md (perf, callgrind)
BENCH_PKGS="iperf3 python3 python3-pyroute2 python3-scapy mininet bridge-utils
            linux-perf valgrind"
case ${1:-} in
  --build) shift; PKGS="$BUILD_PKGS $*" ;;
  --bench) shift; PKGS="$BUILD_PKGS $TEST_PKGS $BENCH_PKGS $*" ;;
  --only)  shift; PKGS="$*" ;;
  *)       PKGS="$BUILD_PKGS $TEST_PKGS $*" ;;
esac
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
# shellcheck disable=SC2086  # a word list on purpose
apt-get install -y -qq --no-install-recommends $missing >/dev/null
