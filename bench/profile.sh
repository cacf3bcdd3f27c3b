#!/bin/sh
# profile.sh: where a forwarder's time goes. Run as root from the
# repository (after make bench built build/bench/cfwd, udpflood, mfwd and ufwd):
#   sh bench/profile.sh [tcp|udp|perf|calls|tcpcalls|tcpseg|instr]...  (default: tcp udp)
# tcp: for each contestant, the user and system CPU time (from
#   /proc/PID/stat, in 1/100 s) the forwarder used during a 3 s iperf3 TCP
#   run, and what that run carried.
# udp: the forwarder alone on CPU 1, the sender on CPU 0 and a socket in B
#   that reads nothing, 4 s of 64-byte datagrams (bench/udpflood); the
#   packets it forwarded A -> B (B's own count of the datagrams its UDP
#   layer took) and its CPU time per packet over the whole send, user and
#   system (the system time includes B's IP and UDP input, which a write
#   to a TUN runs in the writer's context).
# tcpcalls: as tcp, with the forwarder's context switches, wake-ups it
#   made and system calls counted for 2.5 s of the run.
# tcpseg: TCP pinned, as the UDP load is: the forwarder on CPU 1, iperf3's
#   client and server on CPU 0, 3 s; per packet forwarded (both ways) the
#   forwarder's user and system time, and what the run made the TCP ends
#   do: segments B acked with (TcpOutSegs in B), function-call IPIs to CPU 0
#   (remote wake-ups of a sleeping iperf3), CPU 0 idle, packets fa's queue
#   dropped. PROFILE_QLEN=N sets fa's and fb's txqueuelen (default: the
#   kernel's 500).
# calls: as udp, with the forwarder's system calls counted for 2 s (perf
#   stat on the syscalls tracepoints) and printed per packet forwarded.
# perf: as udp, with `perf record` on the forwarder for 2 s; prints the
#   share of its samples per object (kernel, liblua, vnet, libc) and the
#   top symbols (needs linux-perf: make bench installs it).
# instr: the forwarder under valgrind's callgrind (not pinned: valgrind
#   serialises its threads anyway) while A floods 64-byte datagrams for
#   3 s; the user-space instructions a forwarded packet: for vnet, those of
#   its event loop (the inclusive cost of loop.c's turn) over the packets
#   that reached fb; for the C loop, all of its instructions (it starts in
#   no time); the Python loop is skipped (its interpreter's start-up would
#   swamp it). Slow: about 30 s a contestant.
# Besides the contestants of make bench, two experiments: "C io_uring
# multishot (experiment)" (bench/mfwd.c, Linux 6.7 or later) is the C loop
# with one standing multishot read a TUN instead of one read a packet, and
# "C io_uring batches (experiment)" (bench/ufwd.c) the C loop doing its I/O
# as vnet's loop does (batched, registered, RWF_NOWAIT), without Lua.
# PROFILE_ONLY=REGEX runs only the contestants whose name matches it (grep -E),
# PROFILE_TOP=N prints N symbols (default 12), PROFILE_KEEP=DIR keeps each
# contestant's perf.data there; PROFILE_ROUNDS=N repeats the list N times, interleaved (default 1).
# Like run.sh, it works in a private mount namespace with its own /run.
set -eu
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- tcp udp
exec unshare --mount --propagation private sh -c '
mount -t tmpfs vnet-profile /run && mkdir /run/netns || exit 1
up() { # $1: where A sends (10.200.0.99 for the NAT)
  sleep 0.8
  ip -n vbA link set lo up; ip -n vbB link set lo up
  ip -n vbA addr add 10.200.0.1 peer $1 dev fa; ip -n vbA link set fa up
  ip -n vbB addr add 10.200.0.2 peer 10.200.0.1 dev fb; ip -n vbB link set fb up
}
down() {
  kill -TERM $pid; wait $pid 2>/dev/null || true; sleep 0.3
  ip netns pids vbA | xargs -r kill; ip netns pids vbB | xargs -r kill
  ip netns del vbA; ip netns del vbB
}
tcp() {
  echo "$1" | grep -Eq "${PROFILE_ONLY:-.}" || return 0
  ip netns add vbA; ip netns add vbB
  $2 > /dev/null 2>&1 &
  pid=$!
  to=${3:-10.200.0.2}
  up $to
  ip netns exec vbB iperf3 -s -1 >/dev/null 2>&1 &
  sleep 0.3
  set -- "$1" $(cut -d" " -f14,15 /proc/$pid/stat)
  [ "$mode" != tcpcalls ] || perf stat -x, -o /tmp/vnet-profile.calls -e sched:sched_switch \
    -e sched:sched_waking -e raw_syscalls:sys_enter -p $pid -- sleep 2.5 >/dev/null 2>&1 &
  r=$(ip netns exec vbA iperf3 -c $to -t 3 -f m | awk "/receiver/ {print \$7}")
  set -- "$@" $(cut -d" " -f14,15 /proc/$pid/stat)
  echo "| $1 | $r | $(($4 - $2)) | $(($5 - $3)) | $(( ($4 - $2 + $5 - $3) / 3 ))% |"
  [ "$mode" != tcpcalls ] || awk -F, "/sched|sys_enter/ { printf \"    %s %d in 2.5 s\\n\", \$3, \$1 }" /tmp/vnet-profile.calls
  down
}
stat1() { # packets through fa (in, out) and its drops; CAL IPIs, CPU 0 idle, CPU 0 total
  ip -n vbA -s -j link show fa | sed -E "s/.*\"rx\":\{\"bytes\":[0-9]+,\"packets\":([0-9]+).*\"tx\":\{\"bytes\":[0-9]+,\"packets\":([0-9]+),\"errors\":[0-9]+,\"dropped\":([0-9]+).*/\1 \2 \3/"
  awk "/^ *CAL:/ {printf \"%s \", \$2} /^cpu0 / {t = 0; for (i = 2; i <= NF; i++) t += \$i; printf \"%s %s \", \$5, t}" /proc/interrupts /proc/stat
}
pinned() { # $1: the forwarder, started alone on CPU 1 (pid); $2: where A sends (to)
  ip netns add vbA; ip netns add vbB
  taskset -c 1 $1 > /dev/null 2>&1 &
  pid=$!
  to=$2
  up $to
}
tcpseg() {
  echo "$1" | grep -Eq "${PROFILE_ONLY:-.}" || return 0
  pinned "$2" "${3:-10.200.0.2}"
  [ -z "${PROFILE_QLEN:-}" ] || { ip -n vbA link set fa txqueuelen $PROFILE_QLEN; ip -n vbB link set fb txqueuelen $PROFILE_QLEN; }
  ip netns exec vbB taskset -c 0 iperf3 -s -1 >/dev/null 2>&1 &
  sleep 0.3
  acks0=$(ip netns exec vbB nstat -az TcpOutSegs | awk "/TcpOutSegs/ {print \$2}")
  set -- "$1" $(cut -d" " -f14,15 /proc/$pid/stat) $(stat1)
  r=$(ip netns exec vbA taskset -c 0 iperf3 -c $to -t 3 -f m | awk "/receiver/ {print \$7}")
  set -- "$@" $(cut -d" " -f14,15 /proc/$pid/stat) $(stat1)
  acks=$(( $(ip netns exec vbB nstat -az TcpOutSegs | awk "/TcpOutSegs/ {print \$2}") - acks0 ))
  name=$1; shift # $1.. : utime stime rx tx drop cal idle total, before then after
  awk -v name="$name" -v r=$r -v a=$acks -v b="$*" "BEGIN { split(b, v, \" \"); n = v[11] - v[3] + v[12] - v[4]
    printf \"| %s | %s | %.0f | %.0f | %d | %d | %.0f%% | %d |\\n\", name, r, (v[9] - v[1]) * 1e7 / n, (v[10] - v[2]) * 1e7 / n,
      a, v[14] - v[6], (v[15] - v[7]) * 100 / (v[16] - v[8]), v[13] - v[5] }"
  down
}
instr() {
  echo "$1" | grep -Eq "${PROFILE_ONLY:-.}" || return 0
  case $1 in Python*) return 0 ;; esac
  ip netns add vbA; ip netns add vbB
  rm -f /tmp/vnet-profile.cg
  # "env VAR=value cmd": valgrind runs cmd with VAR set, not env
  cmd=$2 set=
  case $cmd in "env "*) cmd=${cmd#env }; set=${cmd%% *}; cmd=${cmd#* } ;; esac
  env $set valgrind --tool=callgrind --callgrind-out-file=/tmp/vnet-profile.cg $cmd > /tmp/vnet-profile.out 2>&1 &
  pid=$!
  for i in $(seq 60); do grep -q ready /tmp/vnet-profile.out && break; sleep 0.5; done
  to=${3:-10.200.0.2}
  up $to
  ip netns exec vbB build/bench/udpflood sink 9999 5 >/dev/null 2>&1 &
  rp=$!
  sleep 0.3
  ip netns exec vbA build/bench/udpflood send $to 9999 3 >/dev/null 2>&1
  wait $rp # what was queued has been forwarded by now
  n=$(rxcount)
  down
  case $1 in
  vnet*) i=$(callgrind_annotate --inclusive=yes /tmp/vnet-profile.cg 2>/dev/null | awk "/loop.c:turn / { gsub(/,/, \"\", \$1); print \$1; exit }") ;;
  *) i=$(callgrind_annotate /tmp/vnet-profile.cg 2>/dev/null | awk "/PROGRAM TOTALS/ { gsub(/,/, \"\", \$1); print \$1; exit }") ;;
  esac
  awk -v n=$n -v i=${i:-0} -v name="$1" "BEGIN { printf \"| %s | %d | %.0f |\\n\", name, n, n ? i / n : 0 }"
}
rxcount() { # datagrams the UDP layer of B took, read or dropped by a full
  # socket (not the receive count of fb: a coalesced write counts one there)
  ip netns exec vbB awk "/^Udp:/ && n++ { print \$2 + \$3 + \$4; exit }" /proc/net/snmp
}
udp() {
  echo "$1" | grep -Eq "${PROFILE_ONLY:-.}" || return 0
  pinned "$2" "${3:-10.200.0.2}"
  # the socket in B reads nothing (as bench/dataplane.lua): each datagram
  # is counted as its full buffer drops it, and the sender has CPU 0
  ip netns exec vbB taskset -c 0 build/bench/udpflood sink 9999 5 >/dev/null 2>&1 &
  rp=$!
  sleep 0.3
  set -- "$1" "$2" $(cut -d" " -f14,15 /proc/$pid/stat) $(rxcount)
  ip netns exec vbA taskset -c 0 build/bench/udpflood send $to 9999 4 >/dev/null 2>&1 &
  sp=$!
  sleep 0.5
  if [ "$mode" = calls ]; then
    irq0=$(awk "/^ *(CAL|RES|LOC):/ {printf \"%s \", \$3}" /proc/interrupts; awk "/NET_RX/ {print \$3}" /proc/softirqs)
    perf stat -x, -o /tmp/vnet-profile.calls $(for c in io_uring_enter epoll_wait epoll_pwait poll read write readv writev; do
      echo "-e syscalls:sys_enter_$c"; done) -e sched:sched_waking -e sched:sched_switch -e io_uring:io_uring_complete -e io_uring:io_uring_complete --filter "res == -11" -p $pid -- sleep 2 >/dev/null 2>&1
  elif [ "$mode" = perf ]; then
    perf record -q -F 4000 -g -o /tmp/vnet-profile.data -p $pid -- sleep 2 >/dev/null 2>&1
  else
    sleep 2
  fi
  wait $sp
  set -- "$@" $(cut -d" " -f14,15 /proc/$pid/stat) $(rxcount)
  wait $rp
  n=$(($8 - $5))
  awk -v n=$n -v u=$(($6 - $3)) -v s=$(($7 - $4)) -v name="$1" "BEGIN {
    printf \"| %s | %.0f | %.0f | %.0f | %.0f |\\n\", name, n / 4000, u * 1e7 / n, s * 1e7 / n, (u + s) * 1e7 / n }"
  n=$((n / 2)) # what the 2 s of perf saw, near enough
  if [ "$mode" = calls ]; then
    irq1=$(awk "/^ *(CAL|RES|LOC):/ {printf \"%s \", \$3}" /proc/interrupts; awk "/NET_RX/ {print \$3}" /proc/softirqs)
    echo $irq0 $irq1 | awk -v n=$n "{ printf \"    CPU 1: LOC %.3f RES %.3f CAL %.3f NET_RX softirqs %.3f per packet\\n\", (\$5-\$1)/n, (\$6-\$2)/n, (\$7-\$3)/n, (\$8-\$4)/n }"
    awk -F, -v n=$n "/sys_enter|sched|io_uring:/ && \$1 > 0 { sub(/.*sys_enter_/, \"\", \$3); if (\$3 ~ /io_uring_complete/ && seen++) \$3 = \"io_uring completions with EAGAIN\"; printf \"    %s %d (%.3f per packet)\\n\", \$3, \$1, \$1 / n }" /tmp/vnet-profile.calls
  fi
  if [ "$mode" = perf ]; then
    perf report -i /tmp/vnet-profile.data --no-children --sort dso -g none 2>/dev/null | grep "%" | head -5
    perf report -i /tmp/vnet-profile.data --no-children --sort sym -g none 2>/dev/null | grep "%" | head -${PROFILE_TOP:-12}
    [ -z "${PROFILE_KEEP:-}" ] || cp /tmp/vnet-profile.data "$PROFILE_KEEP/$(echo "$1" | tr -c "a-zA-Z0-9\n" _).data"
  fi
  down
}
for mode in "$@"; do
  case $mode in
  tcpseg)
    echo "| forwarder | TCP Mbit/s | user ns/packet | system ns/packet | acks from B | CAL IPIs to CPU 0 | CPU 0 idle | fa drops |"
    echo "|---|---|---|---|---|---|---|---|" ;;
  tcp|tcpcalls)
    echo "| forwarder | TCP Mbit/s | user cs | sys cs | of one core |"
    echo "|---|---|---|---|---|" ;;
  udp|perf|calls)
    echo "| forwarder | kpps forwarded | user ns/packet | system ns/packet | total ns/packet |"
    echo "|---|---|---|---|---|" ;;
  instr)
    echo "| forwarder | packets forwarded | instructions a packet |"
    echo "|---|---|---|" ;;
  esac
  case $mode in tcpseg) f=tcpseg ;; tcp*) f=tcp ;; instr) f=instr ;; *) f=udp ;; esac
  round=0
  while [ $round -lt ${PROFILE_ROUNDS:-1} ]; do
  round=$((round + 1))
  $f "C read/write loop" "build/bench/cfwd vbA vbB"
  $f "C io_uring multishot (experiment)" "build/bench/mfwd vbA vbB"
  $f "C io_uring batches (experiment)" "build/bench/ufwd vbA vbB"
  $f "vnet plain" "build/vnet bench/fwd.lua plain vbA vbB"
  $f "vnet plain, to = fb" "build/vnet bench/fwd.lua plain-to vbA vbB"
  $f "vnet plain, read/write" "env VNET_NO_URING=1 build/vnet bench/fwd.lua plain vbA vbB"
  $f "vnet offload, per segment" "build/vnet bench/fwd.lua seg vbA vbB"
  $f "vnet offload, whole" "build/vnet bench/fwd.lua whole vbA vbB"
  $f "vnet NAT, whole" "build/vnet bench/fwd.lua nat vbA vbB" 10.200.0.99
  $f "vnet NAT map, whole" "build/vnet bench/fwd.lua natmap vbA vbB" 10.200.0.99
  $f "vnet NAT, no offload" "build/vnet bench/fwd.lua natplain vbA vbB" 10.200.0.99
  $f "vnet NAT, no offload, to = fb" "build/vnet bench/fwd.lua natplain-to vbA vbB" 10.200.0.99
  $f "Python loop" "/usr/bin/python3 bench/pyfwd.py vbA vbB"
  done
done
' profile "$@"
