#!/bin/bash
# fresh-root.sh: lane "fresh" (make test-fresh). Proves that the README's two
# commands work on a fresh Debian 12 machine, where none of vnet's packages
# are installed yet (issue 9: the first `make demo` used to fail to link).
#
#   1. a Debian 12 root: debootstrap --variant=minbase bookworm, from the
#      mirror this machine's apt uses, plus only what a new machine of ours
#      has that matters here: FRESH_BASE_PKGS. Cached as a tarball under
#      FRESH_CACHE (the same mirror, suite and list reuse it);
#   2. unpacked afresh into a scratch directory each run, with a `git clone`
#      of this repository's committed HEAD in /root/vnet (untracked and
#      uncommitted files do not go in: commit first);
#   3. entered in a private mount and pid namespace whose root it is made
#      (pivot_root, then chroot /), with its own /proc, /run (so /run/netns
#      works), and /dev and /sys bound from the host as slaves (nothing
#      propagates back). apt's downloaded .debs
#      are cached outside the root (FRESH_CACHE/archives), but every install
#      step runs inside the root, every time, from the project's own files;
#   4. runs `make clean` (it must install nothing), then, exactly as the
#      README says, `make demo` and then `make test`
#      with VNET_LANES=$FRESH_LANES (not the kernel lane: qemu inside the
#      root would double the time, and lane 2 proves nothing about installs);
#   5. ends, once the namespace is gone and the scratch directory removed,
#      with one line "N passed, N failed, N skipped": make test's sum, plus
#      a check for make clean, and one for the demo (it exits 0 and its
#      pings are all answered).
#      The run's output is kept in a log file on the host and read only
#      after the chroot has exited, so the summary cannot be cut off.
#
# Environment knobs (all optional):
#   FRESH_LANES    the lanes `make test` runs inside       ("local asan fuzz")
#   FRESH_MIRROR   the Debian mirror (default: from /etc/apt/sources*)
#   FRESH_CACHE    base tarball and .deb cache       (/var/cache/vnet-fresh)
#   FRESH_TIMEOUT  seconds before the run inside is killed          (3600)
#   FRESH_KEEP=1   keep the scratch root (for a look after a failure)
# Run as root on Debian 12. It installs debootstrap on the host if missing.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
SUITE=bookworm
# What a new machine of ours has, besides Debian's minbase. Everything else
# must come from the project's own files (tools/deps.sh via the Makefile).
FRESH_BASE_PKGS="gcc make git iproute2 python3 libreadline-dev"
LANES=${FRESH_LANES:-"local asan fuzz"}
CACHE=${FRESH_CACHE:-/var/cache/vnet-fresh}
TIMEOUT=${FRESH_TIMEOUT:-3600}
WORK="" run="" show=""
summary_re='^[0-9]+ passed, [0-9]+ failed'

say() { printf 'fresh-root: %s\n' "$*"; }
die() { cleanup; say "$*" >&2; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
on_err() { die "unexpected failure (exit $1) at tools/fresh-root.sh line $2: $3"; }
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR
trap 'die "interrupted"' INT TERM
trap cleanup EXIT

# Remove the scratch directory. The mounts lived in the run's own mount
# namespace and went with it; should any show up here anyway, unmount them
# (lazily) and refuse to delete across a mount.
cleanup() {
  if [ -n "$run" ] && kill -0 "$run" 2>/dev/null; then
    kill -TERM "$run" 2>/dev/null || true   # timeout passes it on; unshare's
    wait "$run" 2>/dev/null || true         # --kill-child ends the namespace
  fi
  run=""
  [ -z "$show" ] || kill "$show" 2>/dev/null || true
  show=""
  [ -n "$WORK" ] && [ -d "$WORK" ] || return 0
  local m
  m=$(awk -v w="$WORK" '$5 == w || index($5, w "/") == 1 { print $5 }' /proc/self/mountinfo)
  if [ -n "$m" ]; then
    say "unmounting what is left under $WORK"
    echo "$m" | sort -r | while read -r t; do umount -R -l "$t" 2>/dev/null || true; done
  fi
  if [ "${FRESH_KEEP:-0}" = 1 ]; then say "kept $WORK"; WORK=""; return 0; fi
  rm -rf --one-file-system "$WORK" || say "could not remove all of $WORK"
  WORK=""
}

# The mirror apt uses here for $SUITE main: one-line .list files and deb822
# .sources files (ignoring disabled entries and other suites).
find_mirror() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v s="$SUITE" '$1 == "deb" {
        i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i + 1) != s) next
        for (j = i + 2; j <= NF; j++) if ($j == "main") { print $i; exit }
      }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v s="$SUITE" 'BEGIN { RS = ""; FS = "\n" }
      { t = u = su = c = ""; en = "yes"
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^#/) continue
          k = tolower($i); sub(/:.*/, "", k); v = $i; sub(/^[^:]*:[ \t]*/, "", v)
          if (k == "types") t = v; else if (k == "uris") u = v
          else if (k == "suites") su = v; else if (k == "components") c = v
          else if (k == "enabled") en = v }
        if (en == "no" || (" " t " ") !~ / deb / || (" " su " ") !~ (" " s " ") ||
            (" " c " ") !~ / main /) next
        split(u, a, " "); print a[1]; exit }' "$f"
  done
}

# The cached base: minbase plus FRESH_BASE_PKGS, as a tar file keyed by the
# mirror, the suite and the package list. Sets BASE.
base_tarball() {
  local key tar tmp
  key=$(printf '%s %s minbase %s' "$MIRROR" "$SUITE" "$FRESH_BASE_PKGS" | sha256sum | cut -c1-12)
  tar=$CACHE/base-$SUITE-$key.tar
  if [ ! -f "$tar" ]; then
    say "debootstrap --variant=minbase $SUITE from $MIRROR (cached as $tar)"
    tmp=$(mktemp -d "$CACHE/debootstrap.XXXXXX")
    if ! debootstrap --variant=minbase --include="${FRESH_BASE_PKGS// /,}" \
         "$SUITE" "$tmp/root" "$MIRROR" >"$tmp/log" 2>&1; then
      tail -n 30 "$tmp/log" >&2
      rm -rf --one-file-system "$tmp"
      die "debootstrap failed"
    fi
    rm -f "$tmp/root/var/cache/apt/archives/"*.deb
    tar --numeric-owner -C "$tmp/root" -cpf "$tar.tmp" .
    mv "$tar.tmp" "$tar"
    rm -rf --one-file-system "$tmp"
  fi
  BASE=$tar
}

# Inside a private mount + pid namespace (run by unshare below): mount what
# the suite needs, enter the root and run the README's two commands.
inner() {
  local R=$1 rc
  # the root a mount point of its own, as / is on a machine: the suite's
  # `mount --make-rslave /` (ip netns, macvtap's private sysfs) needs one
  mount --bind "$R" "$R"
  mount -t proc proc "$R/proc"
  mount --rbind /sys "$R/sys" && mount --make-rslave "$R/sys"
  mount --rbind /dev "$R/dev" && mount --make-rslave "$R/dev"  # tun, ptmx, pts
  mount -t tmpfs -o mode=755 tmpfs "$R/run"
  mkdir -p "$R/run/netns" "$R/run/lock"
  mount --bind "$CACHE/archives" "$R/var/cache/apt/archives"
  chroot "$R" chown _apt:root /var/cache/apt/archives/partial
  cp /etc/resolv.conf "$R/etc/resolv.conf"
  # Make it this namespace's / (pivot_root, then let go of the host's tree),
  # not only the shell's: in a bare chroot the kernel refuses unprivileged
  # user namespaces (EPERM), which `vnet --sandbox` uses for non-root users.
  # `chroot /` below then enters a root that is the namespace's own.
  cd "$R"
  pivot_root . mnt
  umount -l /mnt
  R=/
  # make clean first: it must install nothing (pkg-config, say, stays absent)
  for cmd in "make clean" "make demo" "make test"; do
    echo "==== fresh-root: $cmd"
    rc=0
    chroot "$R" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=xterm \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      VNET_LANES="$LANES" /bin/sh -c "cd /root/vnet && $cmd" </dev/null || rc=$?
    echo "==== fresh-root: $cmd exited $rc"
    if [ "$cmd" = "make clean" ]; then
      # shellcheck disable=SC2016  # dpkg-query's format, not the shell's
      chroot "$R" dpkg-query -W -f='${Status}\n' pkg-config 2>/dev/null |
        grep -q 'ok installed' || echo "==== fresh-root: pkg-config absent"
    fi
  done
}

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mounts)"
sh tools/deps.sh --only debootstrap util-linux git tar coreutils
export PATH="$PATH:/usr/sbin:/sbin"
MIRROR=${FRESH_MIRROR:-$(find_mirror | head -n 1)}
[ -n "$MIRROR" ] || die "no $SUITE main mirror in /etc/apt/sources.list{,.d}; set FRESH_MIRROR"
mkdir -p "$CACHE/archives/partial"
start=$(date +%s)
# One run at a time per cache: the base and the .deb cache are shared.
exec 9>"$CACHE/lock"
flock 9
base_tarball

COMMIT=$(git rev-parse HEAD)
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
  say "note: uncommitted changes are not tested; the root gets commit ${COMMIT:0:12}"
WORK=$(mktemp -d /var/tmp/vnet-fresh.XXXXXX)
LOG=$WORK/run.log
mkdir "$WORK/root"
tar --numeric-owner -C "$WORK/root" -xpf "$BASE"
git clone -q --no-hardlinks "$REPO" "$WORK/root/root/vnet"
git -C "$WORK/root/root/vnet" checkout -q --detach "$COMMIT"
say "root ready in $(( $(date +%s) - start )) s: $SUITE minbase + $FRESH_BASE_PKGS, vnet at ${COMMIT:0:12}; lanes: $LANES"

# The whole run inside; --kill-child and the pid namespace make sure no
# process outlives it, the mount namespace that no mount does. On INT or
# TERM (timeout signals its whole process group) the namespace's first
# process exits instead of going on to the next command, and the kernel
# kills the rest.
export -f inner
export CACHE LANES
rc=0
# shellcheck disable=SC2016  # $1 is bash -c's argument
timeout --kill-after=30 "$TIMEOUT" \
  unshare --mount --propagation slave --pid --fork --kill-child \
  bash -c 'trap "exit 143" INT TERM; set -eu; inner "$1"' fresh "$WORK/root" >"$LOG" 2>&1 &
run=$!
# Show the run as it goes; a summary line from inside is shown prefixed, so
# that the last bare summary line is always this lane's own.
# Both in the background: bash runs a trap only between commands, and wait
# returns at once on a signal, so an INT or TERM ends the run without delay.
tail --pid=$run -n +1 -f "$LOG" 2>/dev/null | sed -u -E "s/$summary_re/inside: &/" &
show=$!
wait $run || rc=$?
wait $show || true
show=""

# The report, from the whole log, read after the run inside has exited.
demo=$(sed -n '/^==== fresh-root: make demo$/,/^==== fresh-root: make demo exited/p' "$LOG")
test=$(sed -n '/^==== fresh-root: make test$/,/^==== fresh-root: make test exited/p' "$LOG")
demo_rc=$(echo "$demo" | sed -nE 's/^==== fresh-root: make demo exited ([0-9]+)$/\1/p')
test_rc=$(echo "$test" | sed -nE 's/^==== fresh-root: make test exited ([0-9]+)$/\1/p')
line=$(echo "$test" | grep -E "$summary_re" | tail -n 1 || true)
p=$(echo "$line" | sed -nE 's/^([0-9]+) passed.*/\1/p')
f=$(echo "$line" | sed -nE 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/p')
s=$(echo "$line" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p')
p=${p:-0} f=${f:-0} s=${s:-0}
if grep -q '^==== fresh-root: make clean exited 0$' "$LOG" &&
   grep -q '^==== fresh-root: pkg-config absent$' "$LOG"; then
  say "ok   make clean: installed nothing (pkg-config still absent)"
  p=$((p + 1))
else
  say "FAIL make clean: failed, or installed packages (see above)"
  f=$((f + 1))
fi
if [ "$demo_rc" = 0 ] && echo "$demo" | grep -q ' 0% packet loss'; then
  say "ok   make demo: built from nothing, every ping answered"
  p=$((p + 1))
else
  say "FAIL make demo: exit ${demo_rc:-none}, or not every ping answered (see above)"
  f=$((f + 1))
fi
if [ -z "$line" ]; then
  say "FAIL make test: no summary line (exit ${test_rc:-none}; run exit $rc)"
  f=$((f + 1))
elif [ "$test_rc" != 0 ] && [ "$f" = 0 ]; then
  say "FAIL make test: exit $test_rc with no failed test"
  f=$((f + 1))
fi
[ "$rc" = 0 ] || say "the run inside ended with $rc (124: timed out after $TIMEOUT s)"
cleanup
trap - EXIT
secs=$(( $(date +%s) - start ))
say "$SUITE root, make demo + make test (VNET_LANES=\"$LANES\"): $secs s"
echo "$p passed, $f failed, $s skipped"
[ "$f" = 0 ] && [ "$rc" = 0 ]
