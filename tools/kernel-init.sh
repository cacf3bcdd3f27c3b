#!/bin/sh
# kernel-init.sh: /init of the kernel-lane VM (see tools/kernel-lane.sh).
# /bin/sh is dash there, as on the host: busybox's own sh would run its
# built-in applets (a limited `ip`, ...) instead of the real programs.
#
# It sets up a minimal system, loads the modules for every device kind,
# proves each kind can be made, runs the spec suite from /vnet (a copy of
# the repository) and powers off. Human-readable output goes to the console
# (ttyS0); the machine-readable report goes to ttyS1, one "KEY value" per
# line, ending with "END":
#   STAGE <name>            how far the guest got
#   BOOT_SECONDS <s>        uptime when /init started
#   KINDS_MISSING <kinds>   kinds that could not be created (absent if none)
#   SUMMARY <N passed, N failed, N skipped>
#   SUITE_RC <busted exit status>
#   SUITE_SECONDS <s>
# The guest never powers itself off after a run: once END has been written
# to ttyS1 and "kernel-lane: END" to the console, it waits, and the host
# (tools/kernel-lane.sh), which watches both files qemu writes, stops the VM
# when it has read both ends. So nothing the guest says last can be cut off
# by the VM going away before the emulated UARTs have sent it. (If nobody
# stops it within HALT_GRACE seconds it powers off by itself.)
# If /init ever exits, the kernel panics and (panic=-1, qemu -no-reboot)
# the VM stops: the host then reports a VM that did not report.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
# shellcheck source=/dev/null  # written by kernel-lane.sh into the initramfs
. /etc/vnet-lane.conf

# --- file systems and devices
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null      # may be automounted
mkdir -p /dev/pts /dev/shm /dev/net
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
[ -e /proc/self/fd ] && ln -sf /proc/self/fd /dev/fd
hostname vnet-kernel-lane

report() { echo "$*" > /dev/ttyS1; }
report "BOOT_SECONDS $(cut -d' ' -f1 /proc/uptime)"
report "STAGE init"
echo "kernel-lane: guest up, kernel $(uname -r), $(nproc) CPUs," \
  "$(awk '/MemTotal/{print int($2/1024)}' /proc/meminfo) MiB"

# The last words on both channels, then wait for the host to stop the VM.
finish() {
  report "END"
  echo "kernel-lane: END"
  sync
  sleep "${HALT_GRACE:-600}"
  echo "kernel-lane: nobody stopped the VM within ${HALT_GRACE:-600}s; powering off"
  poweroff -f
}

# Wait until the `tail -f` showing FILE on the console (pid $1) has read all
# of it, then stop it: its read offset, not a guess at its polling period.
stop_tail() { # stop_tail PID FILE
  tpid=$1 file=$2 fd="" i=0
  for f in /proc/"$tpid"/fd/*; do
    [ "$(readlink "$f")" = "$file" ] && fd=${f##*/}
  done
  size=$(wc -c < "$file")
  while [ -n "$fd" ] && [ "$i" -lt 120 ]; do
    pos=$(sed -n 's/^pos:[[:space:]]*//p' "/proc/$tpid/fdinfo/$fd" 2>/dev/null)
    [ -z "$pos" ] || [ "$pos" -ge "$size" ] && break
    sleep 1
    i=$((i + 1))
  done
  kill "$tpid" 2>/dev/null
  wait "$tpid" 2>/dev/null
}

# --- modules, dependencies first (the host wrote them in that order)
report "STAGE modules"
# Tunnel modules (ip_gre, ipip, sit, ip6_tunnel, ip_vti, ...) would put
# fallback devices (gre0, tunl0, sit0, ...) into every new namespace; keep
# them to the initial one, so a fresh namespace holds only lo, as specs
# expect.
echo 1 > /proc/sys/net/core/fb_tunnels_only_for_init_net
loaded=0
while read -r m; do
  if out=$(insmod "/lib/modules/vnet/$m.ko" 2>&1); then
    loaded=$((loaded + 1))
  else
    case $out in
      *"File exists"*) ;;                       # already there
      *) echo "kernel-lane: insmod $m: $out" ;;  # the kind probe will tell
    esac
  fi
done < /lib/modules/vnet/order
echo "kernel-lane: loaded $loaded modules"
ip link set lo up

# --- the kinds, each made in a throwaway namespace. The list comes from the
# kind files (tools/kinds.lua wrote /etc/vnet-kinds.txt: kind, modules, the
# `ip link add` arguments that make one, "-" for kinds that need hardware).
report "STAGE kinds"
ip netns add kprobe
P="ip -n kprobe"
for i in 0 1 2 3 4; do
  $P link add "kp-parent$i" type dummy
  $P link set "kp-parent$i" up
done
missing=""
n=0
while IFS="$(printf '\t')" read -r kind mods args; do
  n=$((n + 1))
  case $kind in
    netdevsim)
      # made on its sysfs bus, not over rtnetlink
      if [ -w /sys/bus/netdevsim/new_device ]; then
        printf 'kernel-lane: kind %-10s ok (its sysfs bus is there)\n' "$kind"
      else
        printf 'kernel-lane: kind %-10s MISSING: no /sys/bus/netdevsim\n' "$kind"
        missing="$missing $kind"
      fi
      continue ;;
  esac
  if [ "$args" = "-" ]; then
    printf 'kernel-lane: kind %-10s needs hardware (not probed)\n' "$kind"
    continue
  fi
  name="kp-$n"
  # shellcheck disable=SC2086  # args is a word list on purpose
  if out=$($P link add "$name" $args 2>&1) &&
     $P -j -d link show dev "$name" 2>/dev/null | grep -q "\"info_kind\":\"$kind\""; then
    printf 'kernel-lane: kind %-10s ok\n' "$kind"
  else
    printf 'kernel-lane: kind %-10s MISSING: %s (modules: %s)\n' "$kind" "$out" "$mods"
    missing="$missing $kind"
  fi
  $P link del "$name" 2>/dev/null
done < /etc/vnet-kinds.txt
# TUN/TAP are made with ioctls on /dev/net/tun, which must exist.
if [ -c /dev/net/tun ] && out=$($P tuntap add kp-tun mode tun 2>&1) &&
   $P -j -d link show dev kp-tun 2>/dev/null | grep -q '"info_kind":"tun"'; then
  printf 'kernel-lane: kind %-8s ok\n' tun
else
  printf 'kernel-lane: kind %-8s MISSING: %s\n' tun "${out:-no /dev/net/tun}"
  missing="$missing tun"
fi
ip netns del kprobe
if [ -n "$missing" ]; then
  report "KINDS_MISSING${missing}"
  echo "kernel-lane: MISSING kinds:$missing"
else
  echo "kernel-lane: every kind can be created"
fi

# --- the suite, as tools/test.sh runs it, from /vnet
report "STAGE suite"
# Packet timestamps stay on for the whole suite. Every ping turns them on
# at its start and off at its end (netstamp_needed_key), and the kernel
# patches its receive path's text each time. Under TCG a vCPU in
# __netif_receive_skb_core once hit the patch's int3 after the patch was
# done, and the guest panicked (Oops: int3, from a spec's ping). A ping
# that lives as long as the suite keeps the key on: the specs' pings then
# only count, and nothing is patched while packets flow.
ping -q -i 3600 127.0.0.1 > /dev/null 2>&1 &
stamppid=$!
cd /vnet || { echo "kernel-lane: no /vnet"; finish; }
export HOME=/root SHELL=/bin/sh TERM=dumb LANG=C.UTF-8 VNET_LANE=kernel
# the host's accelerator (vnet.accel= on the command line): kvm or tcg
VNET_ACCEL=$(sed -n 's/.*vnet\.accel=\([a-z]*\).*/\1/p' /proc/cmdline)
export VNET_ACCEL=${VNET_ACCEL:-tcg}
echo "kernel-lane: accelerator $VNET_ACCEL"
echo "kernel-lane: excluded here: $EXCLUDE_REASON"
echo "kernel-lane: running the suite (timeout ${SUITE_TIMEOUT}s)"
start=$(cut -d. -f1 /proc/uptime)
# The suite writes to a file that `tail -f` shows on the console; /init waits
# for busted itself, not for the end of a pipe that a stray background
# process of some spec could hold open. stdin is /dev/null, as in CI:
# nothing may wait for a terminal. busted runs in its own session, so a
# timeout kills it with everything it started.
: > /tmp/suite.log
tail -f /tmp/suite.log &
tailpid=$!
# shellcheck disable=SC2086  # BUSTED_ARGS is a word list on purpose
setsid build/vnet /usr/bin/busted --ignore-lua -o spec/support/summary.lua \
  --filter-out="$EXCLUDE_PATTERN" $BUSTED_ARGS spec < /dev/null > /tmp/suite.log 2>&1 &
suitepid=$!
( sleep "$SUITE_TIMEOUT"
  echo > /tmp/suite.timeout
  kill -KILL -"$suitepid" "$suitepid" ) 2>/dev/null &
dogpid=$!
wait "$suitepid"
rc=$?
end=$(cut -d. -f1 /proc/uptime)
kill "$dogpid" "$stamppid" 2>/dev/null
stop_tail "$tailpid" /tmp/suite.log
[ -e /tmp/suite.timeout ] &&
  echo "kernel-lane: the suite did not finish within ${SUITE_TIMEOUT}s and was killed"
report "SUITE_SECONDS $((end - start))"
report "SUITE_RC $rc"
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' /tmp/suite.log | tail -n 1)
[ -n "$summary" ] && report "SUMMARY $summary"
finish
