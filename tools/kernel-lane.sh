#!/bin/bash
# kernel-lane.sh: test lane 2, "the full kernel" (make test-kernel).
#
# This machine's own kernel lacks many device kinds (dummy, ipvlan, vlan,
# bond, the tunnels, vrf, ...), so lane 1 (make test) reports those specs as
# pending. This lane boots Debian's stock generic kernel, where every kind is a
# module, under qemu-system-x86_64 (TCG: no KVM needed; KERNEL_ACCEL=kvm
# where KVM can run it) and runs the same spec suite inside it:
#
#   1. install the Debian packages the lane needs (only those missing);
#   2. fetch the newest linux-image-*-amd64 (the generic flavour, not -cloud
#      or -rt: the cloud kernel has no hsr, vcan, vxcan or netdevsim) with
#      `apt-get download`
#      (cached under build/kernel/; KERNEL_REFRESH=1 picks again);
#   3. build an initramfs: busybox, the modules every kind needs (resolved
#      with modprobe --show-depends against the kernel's own modules.dep),
#      the test tools and their shared libraries, busted and its Lua
#      modules, and a copy of this repository (with build/vnet);
#   4. boot it; the guest's /init (tools/kernel-init.sh) loads the modules,
#      proves each kind can be created, runs the suite and powers off;
#   5. print the guest's test lines, then as the very last line
#      "N passed, N failed, N skipped". Exit status non-zero when anything
#      failed, a kind was missing, or the VM never reported.
#
# Environment knobs (all optional):
#   KERNEL_LANE_TIMEOUT  seconds before qemu is killed          (default 1500)
#   KERNEL_SUITE_TIMEOUT seconds the guest allows the suite     (default 1200)
#   KERNEL_BOOT_TIMEOUT  seconds for the guest to reach /init    (default 180)
#   KERNEL_REFRESH=1     ignore the cached kernel, pick the newest again
#   KERNEL_MEM, KERNEL_SMP  guest memory and CPUs               (2G, 2)
#   KERNEL_ACCEL=kvm|tcg the accelerator (default tcg; see pick_accel);
#                        the guest sees it as VNET_ACCEL
#   KERNEL_BUSTED_ARGS   extra busted arguments for the guest, e.g. a
#                        single spec: KERNEL_BUSTED_ARGS=--filter=macvlan
#
# Run as root on Debian 12 (apt-get is used for what is missing).
set -Eeuo pipefail
# Any command that fails unexpectedly ends the lane with a message and the
# summary line, never silently.
on_err() { die "unexpected failure (exit $1) at tools/kernel-lane.sh line $2: $3"; }
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin"       # depmod, modprobe
REPO=$PWD
KDIR=$REPO/build/kernel           # everything this lane makes or caches
STAGE=$KDIR/initramfs             # the guest's root file system, unpacked
LANE_TIMEOUT=${KERNEL_LANE_TIMEOUT:-1500}
SUITE_TIMEOUT=${KERNEL_SUITE_TIMEOUT:-1200}
BOOT_TIMEOUT=${KERNEL_BOOT_TIMEOUT:-180}

# Debian packages this lane needs on the host, besides tools/deps.sh's.
LANE_PKGS="qemu-system-x86 busybox-static cpio kmod xz-utils zstd gzip gcc-12 make pahole
           coreutils util-linux iproute2 iputils-ping bash dash tmux
           ncurses-base"

# Kernel modules the guest loads: those of every link kind, which each kind
# file names itself (`lane = {modules = ...}` in lua/vnet/<kind>.lua, read
# by tools/kinds.lua with build/vnet), plus what the specs use around them.
# Dependencies are resolved from the kernel's modules.dep, so only the
# top-level names are listed.
EXTRA_MODULES="tun af_packet wireguard
               sch_netem sch_tbf sch_htb sch_ingress cls_u32 act_mirred"

# Host programs copied into the guest, with their libraries. The specs run
# these through /bin/sh (dash, as on the host); busybox supplies the rest
# (sleep, seq, grep, cut, head, cat, chmod, kill, mount, insmod, ...).
# The optional ones come along when the host has them (tools/deps.sh and the
# specs decide which): witnesses such as tcpdump and tshark, more iproute2.
# coreutils' timeout and util-linux's setsid are required: busybox's run
# `sh` as its own ash, which then runs busybox applets (nc without -N or -v)
# instead of the real programs.
TOOLS_REQUIRED="dash bash ip bridge ping setpriv tmux nsenter unshare tcpdump
                tshark dumpcap nc timeout setsid"
TOOLS_OPTIONAL="editcap tc ss ethtool ps pgrep lua5.4 iperf3"
# Data those programs read: a UTF-8 locale and terminfo (tmux, readline),
# wireshark's dissector data and plugins (tshark). Copied when present; any
# shared object in them brings its libraries.
DATA_DIRS="/usr/lib/locale/C.utf8 /lib/terminfo /usr/share/terminfo
           /etc/terminfo /usr/share/wireshark /usr/lib/x86_64-linux-gnu/wireshark
           /etc/wireshark"

# Specs the guest leaves out, with the reason (busted --filter-out takes Lua
# patterns matched against the full test name).
EXCLUDE_PATTERN="^the rockspec "
EXCLUDE_REASON="the rockspec spec builds with luarocks + gcc, and the layers spec with cc + nm: too heavy for (or missing in) the VM; lane 1 runs them"

say() { printf 'kernel-lane: %s\n' "$*"; }
die() { say "$*" >&2; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
now() { date +%s; }

# tcg unless KERNEL_ACCEL=kvm: KVM is faster and its timers are exact, but
# a machine that is itself a VM may offer a nested /dev/kvm whose
# instruction emulator cannot run a stock kernel (seen here: "KVM internal
# error. Suberror: 1 ... emulation failure" on the decompressor's shlx, and
# on cmpxchg16b in an uncompressed vmlinux, whatever -cpu says).
pick_accel() {
  case ${KERNEL_ACCEL:-tcg} in
    kvm|tcg) ACCEL=${KERNEL_ACCEL:-tcg} ;;
    *) die "KERNEL_ACCEL must be kvm or tcg, not '$KERNEL_ACCEL'" ;;
  esac
}

# ---------------------------------------------------------------- 1. packages
install_packages() {
  local p missing=""
  for p in $LANE_PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
      || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  [ "$(id -u)" = 0 ] || die "missing Debian packages:$missing (run as root to install them)"
  say "installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086  # a word list on purpose
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# ------------------------------------------------------------------ 2. kernel
# Sets KVER (e.g. 6.12.57+deb12-amd64), VMLINUZ and MODROOT (a tree
# with lib/modules/$KVER and a fresh modules.dep).
# The generic kernel packages in the cache (a cloud one left by an older
# version of this lane does not count).
generic_debs() {
  find "$KDIR/debs" -name 'linux-image-*.deb' ! -name '*-cloud-amd64_*' ! -name '*-rt-amd64_*'
}

fetch_kernel() {
  local deb pkg
  mkdir -p "$KDIR/debs"
  if [ "${KERNEL_REFRESH:-0}" = 1 ] ||
     [ -z "$(generic_debs)" ]; then
    say "looking for the newest linux-image-*-amd64 (generic)"
    apt-get update -qq
    # Versioned generic packages only (not the meta package, not -cloud,
    # -rt or -dbg): linux-image-6.1.0-28-amd64, linux-image-6.12.57+deb12-amd64.
    pkg=$(apt-cache search --names-only '^linux-image-[0-9].*-amd64$' \
          | awk '{print $1}' | grep -Ev -- '-(cloud|rt)-amd64$|-dbg$' | sort -V | tail -n 1)
    [ -n "$pkg" ] || die "apt-cache knows no linux-image-*-amd64 package"
    say "downloading $pkg"
    rm -f "$KDIR"/debs/*.deb
    # (as root into a directory _apt cannot write: say so, or apt warns)
    (cd "$KDIR/debs" && apt-get download -q -o APT::Sandbox::User=root "$pkg") \
      || die "apt-get download $pkg failed"
  fi
  deb=$(generic_debs | sort -V | tail -n 1)
  MODROOT=$KDIR/root
  if [ ! -f "$MODROOT/.from" ] || [ "$(cat "$MODROOT/.from")" != "$(basename "$deb")" ]; then
    say "unpacking $(basename "$deb")"
    rm -rf "$MODROOT"
    dpkg-deb -x "$deb" "$MODROOT"
    basename "$deb" > "$MODROOT/.from"
  fi
  # Debian 12 ships /lib/modules; a merged-/usr package would use usr/lib.
  local mods="" d
  for d in "$MODROOT"/lib/modules/* "$MODROOT"/usr/lib/modules/*; do
    [ -d "$d/kernel" ] && { mods=$d; break; }
  done
  [ -n "$mods" ] || die "no lib/modules in $(basename "$deb")"
  KVER=$(basename "$mods")
  if [ "$mods" != "$MODROOT/lib/modules/$KVER" ]; then
    mkdir -p "$MODROOT/lib/modules"
    ln -sfn "$mods" "$MODROOT/lib/modules/$KVER"
  fi
  VMLINUZ=$MODROOT/boot/vmlinuz-$KVER
  [ -f "$VMLINUZ" ] || die "no boot/vmlinuz-$KVER in $(basename "$deb")"
  # The package leaves modules.dep to its postinst; make it here.
  [ -f "$mods/modules.dep" ] || depmod -b "$MODROOT" "$KVER"
}

# ------------------------------------------------- 2b. modules Debian lacks
# A kind file may say its module is to be built from the kernel's source
# when the kernel package has none (netdevsim: Debian does not build it).
# Then: Debian's linux-source of the same version, the kernel's headers
# and kbuild (apt-get download, unpacked under build/kernel/src, nothing
# installed on this machine), an out-of-tree build of that one directory,
# the .ko put into the module tree as extra/ and depmod run again. Cached
# per kernel version.
build_missing_modules() {
  local lines line mod dir cfg file ver base src hdr ko
  lines=$("$REPO/build/vnet" "$REPO/tools/kinds.lua" build) || die "tools/kinds.lua build failed"
  [ -n "$lines" ] || return 0
  ver=$(dpkg-deb -f "$(generic_debs | sort -V | tail -n 1)" Version)
  base=${KVER%-amd64}                              # 6.12.117+deb12
  src=$KDIR/src/$KVER
  while IFS="$(printf '\t')" read -r mod dir cfg file; do
    modprobe -d "$MODROOT" -S "$KVER" --show-depends "$mod" >/dev/null 2>&1 && continue
    ko=$src/built/$mod.ko
    if [ ! -f "$ko" ]; then
      say "building $mod for $KVER from linux-source (Debian's kernel has none)"
      mkdir -p "$src/debs" "$src/root" "$src/built"
      (cd "$src/debs" && apt-get download -q -o APT::Sandbox::User=root \
         "linux-source-${KVER%%.*}.$(echo "$KVER" | cut -d. -f2)=$ver" \
         "linux-headers-$KVER=$ver" "linux-headers-$base-common=$ver" \
         "linux-kbuild-$base=$ver" >/dev/null) || die "apt-get download of the kernel source for $mod failed"
      for d in "$src"/debs/linux-headers-*.deb "$src"/debs/linux-kbuild-*.deb; do
        dpkg-deb -x "$d" "$src/root"
      done
      hdr=$src/root/usr/src/linux-headers-$KVER
      # its Makefile includes the common headers by absolute path
      sed -i "s#^include /usr/src/#include $src/root/usr/src/#" "$hdr/Makefile"
      rm -rf "$src/m"; mkdir -p "$src/m"
      dpkg-deb --fsys-tarfile "$(ls "$src"/debs/linux-source-*.deb)" \
        | tar -xOf - --wildcards './usr/src/linux-source-*.tar.xz' \
        | xz -dc | tar -xf - -C "$src/m" --strip-components=1 --wildcards \
          "*/$dir/$( [ "$file" = - ] && echo '*' || echo "$file.c")"
      # one file of a big directory: a Kbuild of its own (read before the
      # directory's Makefile) builds that module only
      [ "$file" = - ] || echo "obj-m := $file.o" > "$src/m/$dir/Kbuild"
      make -s -C "$hdr" M="$src/m/$dir" "$cfg=m" modules >"$src/build.log" 2>&1 \
        || die "building $mod failed (see $src/build.log)"
      cp "$src/m/$dir/$mod.ko" "$ko"
    fi
    mkdir -p "$MODROOT/lib/modules/$KVER/extra"
    cp "$ko" "$MODROOT/lib/modules/$KVER/extra/"
    depmod -b "$MODROOT" "$KVER"
  done <<< "$lines"
}

# -------------------------------------------------------------- 3. initramfs
# Copy one file to the same path under $STAGE, following symlinks.
put() {
  mkdir -p "$STAGE$(dirname "$1")"
  cp -L "$1" "$STAGE$1"
}

# Copy every shared library ldd lists for an ELF file, with the loader.
put_libs() {
  local lib libs
  # (a static binary makes ldd fail: no libraries then)
  libs=$(ldd "$1" 2>/dev/null | awk '/=> \//{print $3} /^\t\//{print $1}' || true)
  for lib in $libs; do
    [ -e "$STAGE$lib" ] || put "$lib"
  done
}

# Copy an ELF file and its libraries.
put_elf() {
  put "$1"
  put_libs "$1"
}

build_initramfs() {
  local t m line path name order applet f d
  rm -rf "$STAGE"
  mkdir -p "$STAGE"/usr/bin "$STAGE"/usr/lib "$STAGE"/usr/lib64 "$STAGE"/usr/sbin
  # Merged /usr, as on Debian 12: /bin, /sbin, /lib, /lib64 are links.
  ln -s usr/bin "$STAGE/bin"; ln -s usr/sbin "$STAGE/sbin"
  ln -s usr/lib "$STAGE/lib"; ln -s usr/lib64 "$STAGE/lib64"
  mkdir -p "$STAGE"/{proc,sys,dev,run,tmp,root,etc,var,mnt}
  ln -s ../run "$STAGE/var/run"
  chmod 1777 "$STAGE/tmp"
  chmod 700 "$STAGE/root"

  # Modules, decompressed (busybox insmod reads plain .ko), loaded by /init
  # in the order modprobe --show-depends gives (dependencies first).
  mkdir -p "$STAGE/lib/modules/vnet"
  order=$STAGE/lib/modules/vnet/order
  : > "$order"
  local kinds
  kinds=$("$REPO/build/vnet" "$REPO/tools/kinds.lua") || die "tools/kinds.lua failed"
  mkdir -p "$STAGE/etc"
  printf '%s\n' "$kinds" > "$STAGE/etc/vnet-kinds.txt"
  MODULES="$("$REPO/build/vnet" "$REPO/tools/kinds.lua" modules) $EXTRA_MODULES"
  for m in $MODULES; do
    modprobe -d "$MODROOT" -S "$KVER" --show-depends "$m" >"$KDIR/dep.tmp" 2>&1 \
      || die "kernel $KVER has no module $m: $(cat "$KDIR/dep.tmp")"
    while read -r line; do
      case $line in
        insmod\ *) path=$(echo "$line" | awk '{print $2}') ;;
        *) continue ;;             # "builtin X": nothing to load
      esac
      name=$(basename "$path"); name=${name%%.ko*}
      grep -qx "$name" "$order" && continue
      case $path in
        *.ko.xz)  xz -dc "$path" ;;
        *.ko.zst) zstd -qdc "$path" ;;
        *.ko.gz)  gzip -dc "$path" ;;
        *)        cat "$path" ;;
      esac > "$STAGE/lib/modules/vnet/$name.ko"
      echo "$name" >> "$order"
    done < "$KDIR/dep.tmp"
  done
  rm -f "$KDIR/dep.tmp"

  # Real programs first, then busybox for every other command.
  for t in $TOOLS_REQUIRED; do
    f=$(command -v "$t") || die "$t is not installed"
    put_elf "$f"
  done
  for t in $TOOLS_OPTIONAL; do
    f=$(command -v "$t") && put_elf "$f"
  done
  ln -sf dash "$STAGE/usr/bin/sh"
  put_elf "$(command -v busybox)"
  # (busybox-static needs no libraries; the line above copies it alone.)
  for applet in $(busybox --list); do
    [ -e "$STAGE/usr/bin/$applet" ] || [ -e "$STAGE/usr/sbin/$applet" ] \
      || ln -s busybox "$STAGE/usr/bin/$applet"
  done

  # The vnet host and the Lua world busted runs in. Every C module's
  # libraries come along too.
  put_libs "$REPO/build/vnet"          # (the binary comes with the repository)
  for d in /usr/share/lua/5.4 /usr/lib/x86_64-linux-gnu/lua/5.4; do
    mkdir -p "$STAGE$d"
    cp -rL "$d/." "$STAGE$d/"
  done
  while IFS= read -r -d '' f; do
    put_elf "$f"
  done < <(find /usr/lib/x86_64-linux-gnu/lua/5.4 -name '*.so' -print0)
  put /usr/bin/busted

  for d in $DATA_DIRS; do
    [ -d "$d" ] || continue
    mkdir -p "$STAGE$d"
    cp -rL "$d/." "$STAGE$d/"
    while IFS= read -r -d '' f; do
      put_libs "$f"
    done < <(find "$d" -name '*.so*' -type f -print0)
  done
  # The host's users and groups (tcpdump drops root for its own user), and
  # the tables that name protocols and ports. No passwords: no shadow file.
  for f in /etc/passwd /etc/group /etc/protocols /etc/services /etc/ethertypes; do
    if [ -f "$f" ]; then put "$f"; fi
  done
  echo vnet-kernel-lane > "$STAGE/etc/hostname"
  touch "$STAGE/etc/fstab"

  # The repository, as the specs expect to find it (cwd = the repo root).
  mkdir -p "$STAGE/vnet"
  tar -C "$REPO" --exclude=./.git --exclude=./build/kernel --exclude=./build/obj \
      -cf - . | tar -C "$STAGE/vnet" -xf -

  # The guest's /init and what it needs to know.
  install -m 755 "$REPO/tools/kernel-init.sh" "$STAGE/init"
  {
    echo "KVER='$KVER'"
    echo "SUITE_TIMEOUT='$SUITE_TIMEOUT'"
    echo "EXCLUDE_PATTERN='$EXCLUDE_PATTERN'"
    echo "EXCLUDE_REASON='$EXCLUDE_REASON'"
    echo "BUSTED_ARGS='${KERNEL_BUSTED_ARGS:-}'"
  } > "$STAGE/etc/vnet-lane.conf"

  (cd "$STAGE" && find . -print0 | LC_ALL=C sort -z \
     | cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 > "$KDIR/initramfs.cpio.gz"
}

# ---------------------------------------------------------------- 4. the VM
run_vm() {
  local console=$KDIR/console.log raw=$KDIR/console.raw result=$KDIR/result.txt
  local watcher
  rm -f "$console" "$raw" "$result" "$KDIR/qemu.pid" "$KDIR/vm.done" \
        "$KDIR/boot.timeout" "$KDIR/vm.reported"
  : > "$result"; : > "$raw"
  say "booting $KVER under qemu ($ACCEL, timeout ${LANE_TIMEOUT}s, ${BOOT_TIMEOUT}s to reach /init)"
  # The watcher, once a second: a guest that has not reached /init in
  # BOOT_TIMEOUT seconds is stopped now rather than at the lane's timeout;
  # a guest that has said its last words (END on ttyS1, "kernel-lane: END"
  # on the console, both as qemu wrote them to their files) is stopped then.
  # The guest never powers itself off after a run (tools/kernel-init.sh),
  # so the VM cannot go away before its report has arrived: the host stops
  # it only after reading both ends. (Its output goes to /dev/null so it
  # never holds a pipe that a caller reads to the end.)
  (
    i=0 booted=0
    while sleep 1; do
      i=$((i + 1))
      [ -e "$KDIR/vm.done" ] && exit 0
      if [ "$booted" = 0 ]; then
        if grep -q '^STAGE init' "$result"; then
          booted=1
        elif [ "$i" -ge "$BOOT_TIMEOUT" ]; then
          touch "$KDIR/boot.timeout"
          [ -s "$KDIR/qemu.pid" ] && kill "$(cat "$KDIR/qemu.pid")"
          exit 0
        fi
      fi
      if tr -d '\r' < "$result" | grep -qx END &&
         tr -d '\r' < "$raw" | grep -qx 'kernel-lane: END'; then
        touch "$KDIR/vm.reported"
        [ -s "$KDIR/qemu.pid" ] && kill "$(cat "$KDIR/qemu.pid")"
        exit 0
      fi
    done
  ) >/dev/null 2>&1 &
  watcher=$!
  local cpu=max
  if [ "$ACCEL" = kvm ]; then cpu=host; fi
  # no_timer_check: under TCG on a busy host the guest's check that the
  # IO-APIC timer ticks can fail and panic the kernel at boot ("IO-APIC +
  # timer doesn't work!", seen in the soak); the emulated timer is fine.
  # ttyS0 (stdio, and a copy in console.raw that qemu writes itself) carries
  # the console: boot messages and the test lines, shown live with a "vm| "
  # prefix. ttyS1 (a file) carries only the guest's machine-readable report,
  # so kernel messages can never garble it.
  trap - ERR; set +e      # qemu's status is looked at below, not fatal
  timeout --kill-after=10 "$LANE_TIMEOUT" \
    qemu-system-x86_64 -machine q35 -accel "$ACCEL" -cpu "$cpu" \
      -m "${KERNEL_MEM:-2G}" -smp "${KERNEL_SMP:-2}" \
      -nographic -no-reboot -nic none -monitor none -pidfile "$KDIR/qemu.pid" \
      -chardev "stdio,id=con0,logfile=$raw" -serial chardev:con0 \
      -serial "file:$result" \
      -kernel "$VMLINUZ" -initrd "$KDIR/initramfs.cpio.gz" \
      -append "console=ttyS0 quiet panic=-1 no_timer_check vnet.accel=$ACCEL" </dev/null 2>&1 \
    | tr -d '\r' | tee "$console" \
    | sed -u -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' -e 's/^/vm| /'
  QEMU_RC=${PIPESTATUS[0]}
  set -e; trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR
  touch "$KDIR/vm.done"
  wait "$watcher" 2>/dev/null || true
  tr -d '\r' < "$result" > "$result.clean" && mv "$result.clean" "$result"
  if [ -e "$KDIR/vm.reported" ]; then
    say "the guest reported in full; the host stopped the VM (qemu exit $QEMU_RC)"
  fi
}

# ----------------------------------------------------------------- 5. report
report() {
  local result=$KDIR/result.txt summary rc stage kinds_bad kernel_pending
  stage=$(sed -n 's/^STAGE //p' "$result" | tail -n 1)
  summary=$(sed -n 's/^SUMMARY //p' "$result" | tail -n 1)
  rc=$(sed -n 's/^SUITE_RC //p' "$result" | tail -n 1)
  kinds_bad=$(sed -n 's/^KINDS_MISSING //p' "$result" | tail -n 1)

  if ! grep -qx 'END' "$result"; then
    if [ -e "$KDIR/boot.timeout" ]; then
      say "FAILED: the VM did not reach /init within ${BOOT_TIMEOUT}s and was stopped"
    elif [ "$QEMU_RC" = 124 ] || [ "$QEMU_RC" = 137 ]; then
      say "FAILED: the VM did not report within ${LANE_TIMEOUT}s and was killed (last stage: ${stage:-none, it never reached /init})"
    else
      say "FAILED: the VM stopped without reporting (qemu exit $QEMU_RC; last stage: ${stage:-none, it never reached /init})"
    fi
    say "console log: $KDIR/console.log"
    echo "0 passed, 1 failed, 0 skipped"
    return 1
  fi

  local failed=0 passed=0 skipped=0 extra=0
  if [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
    passed=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]} skipped=${BASH_REMATCH[3]}
  else
    say "FAILED: the suite in the VM gave no summary line (busted exit ${rc:-?})"
    extra=$((extra + 1))
  fi
  if [ -n "$kinds_bad" ]; then
    say "FAILED: this kernel could not create: $kinds_bad (see the kind probe above)"
    extra=$((extra + 1))
  fi
  # Nothing may be pending here for want of kernel support ("this kernel has
  # no 'ipvlan' support", "Unknown device type", ...).
  # Only the reason is looked at: what follows the last " -- " of a skip line.
  kernel_pending=$(awk -F ' -- ' '/^skip / && NF > 1 &&
    $NF ~ /has no|lacks|Unknown device type|[Nn]ot supported/' "$KDIR/console.log")
  if [ -n "$kernel_pending" ]; then
    say "FAILED: specs pending for want of kernel support, in the full kernel:"
    printf '%s\n' "$kernel_pending" | sed 's/^/  /'
    extra=$((extra + 1))
  fi
  if [ -n "$summary" ] && [ "${rc:-1}" != 0 ] && [ "$failed" = 0 ] && [ "$extra" = 0 ]; then
    say "FAILED: busted exited $rc in the VM with no failed test"
    extra=$((extra + 1))
  fi
  echo "${passed} passed, $((failed + extra)) failed, ${skipped} skipped"
  return $((failed + extra > 0))
}

main() {
  local t0 t1 t2 t3 t4
  [ -x "$REPO/build/vnet" ] || die "build/vnet is missing: run make first"
  t0=$(now)
  pick_accel
  install_packages
  t1=$(now)
  fetch_kernel
  build_missing_modules
  t2=$(now)
  build_initramfs
  t3=$(now)
  say "kernel $KVER; initramfs $(du -h "$KDIR/initramfs.cpio.gz" | cut -f1)," \
      "$(wc -l < "$STAGE/lib/modules/vnet/order") modules"
  run_vm
  t4=$(now)
  local boot suite
  boot=$(sed -n 's/^BOOT_SECONDS //p' "$KDIR/result.txt" | tail -n 1)
  suite=$(sed -n 's/^SUITE_SECONDS //p' "$KDIR/result.txt" | tail -n 1)
  say "times: packages $((t1 - t0))s, kernel $((t2 - t1))s, initramfs $((t3 - t2))s," \
      "VM $((t4 - t3))s (boot to /init ${boot:-?}s, suite ${suite:-?}s)"
  trap - ERR       # report's own status is the lane's
  report
}

main "$@"
