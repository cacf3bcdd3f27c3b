#!/bin/sh
# config.sh OUT NAME="pkg ..." ...: write OUT, the make fragment the Makefile
# includes, with NAME_CFLAGS and NAME_LIBS from pkg-config for each group.
# It first installs what building needs (tools/deps.sh --build, pkg-config
# itself among them), so the flags are asked for only once the packages are
# there: on a fresh machine the first `make` then links. Any pkg-config
# failure stops make with pkg-config's own message, instead of compiling
# with empty flags and failing later on hundreds of undefined symbols.
# Example: sh tools/config.sh build/config.mk VNET="lua5.4 libnl-3.0" LUA=lua5.4
set -eu
[ $# -ge 1 ] || { echo "usage: config.sh OUT [NAME=\"pkg ...\"]..." >&2; exit 2; }
out=$1; shift
sh "$(dirname "$0")/deps.sh" --build
mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
echo "# written by tools/config.sh (pkg-config, $(date -u +%Y-%m-%dT%H:%MZ)); make clean removes it" >"$tmp"
for group in "$@"; do
  name=${group%%=*} pkgs=${group#*=}
  # shellcheck disable=SC2086  # a word list on purpose
  cflags=$(pkg-config --cflags $pkgs) || { echo "config: pkg-config --cflags $pkgs failed" >&2; exit 1; }
  # shellcheck disable=SC2086
  libs=$(pkg-config --libs $pkgs) || { echo "config: pkg-config --libs $pkgs failed" >&2; exit 1; }
  printf '%s_CFLAGS := %s\n%s_LIBS := %s\n' "$name" "$cflags" "$name" "$libs" >>"$tmp"
done
mv "$tmp" "$out"
