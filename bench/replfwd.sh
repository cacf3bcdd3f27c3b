#!/bin/sh
# replfwd.sh MODE NS_A NS_B: bench/fwd.lua's forwarder set up in the vnet
# REPL (vnet -i), which then idles at its prompt in a real terminal (a
# private tmux server). Prints "ready PID" with the pid of that vnet (the
# one to pin to a CPU) and lives until it ends; SIGTERM ends both.
set -u
cd "$(dirname "$0")/.."
sock=$(mktemp -u /tmp/vnet-replfwd.XXXXXX)
ready=$(mktemp -u /tmp/vnet-replfwd-ready.XXXXXX)
tmux -S "$sock" -f /dev/null new-session -d -x 120 -y 30 \
  "env VNET_FWD_READY=$ready VNET_HISTORY= INPUTRC=/dev/null build/vnet -i bench/fwd.lua $*" || exit 1
i=0
while [ ! -s "$ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
pid=$(cat "$ready" 2>/dev/null)
[ -n "$pid" ] || { echo "no REPL: $(tmux -S "$sock" capture-pane -p)"; tmux -S "$sock" kill-server; exit 1; }
end() { kill -TERM "$pid" 2>/dev/null; tmux -S "$sock" kill-server 2>/dev/null; rm -f "$sock" "$ready"; exit 0; }
trap end TERM INT
echo "ready $pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
end
