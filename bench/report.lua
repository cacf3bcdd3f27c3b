--- report.lua: bench/RESULTS.md from one run's measurements.
local U = require "bench.util"
local R = {}

local function machine()
  local cpu = U.sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"):gsub("^%s+", ""):gsub("%s+$", "")
  return string.format("%s, %s cores, %s, kernel %s", cpu ~= "" and cpu or "unknown CPU",
    U.sh("nproc"):gsub("%s+", ""), U.sh("free -g | awk '/Mem:/{print $2\" GiB\"}'"):gsub("%s+$", ""),
    U.sh("uname -r"):gsub("%s+", ""))
end

local function ratio(a, b)
  if not a or not b or b == 0 then return "n/a" end
  return string.format("%.2fx", a / b)
end

-- The vnet modes the "ahead of the Python loop" targets cover
local MODES = { "plain", "plainto", "seg", "whole", "nat", "natmap", "natplain", "natplainto" }

--- Targets of the issue, checked against the medians.
local function targets(med, q)
  local t = {}
  local function check(what, ok, detail)
    t[#t + 1] = string.format("| %s | %s | %s |", what, ok == nil and "n/a" or ok and "met" or "**missed**", detail)
  end
  local c, k = med.cloop, med.kernel
  local function r(key, base, field) return med[key] and base and med[key][field] / base[field] end
  if c then
    -- in both forms: the handler writes (fb:write(p)), or the loop does
    -- (on_packet(fn, {to = fb})); each reported, the second claimed
    for _, f in ipairs { { "plain", "fb:write(p)" }, { "plainto", "{to = fb}" } } do
      local key, form = f[1], f[2]
      local rt, ru = r(key, c, "tcp"), r(key, c, "udp")
      if med[key] then
        check(string.format("plain Lua forwarder, %s, >= 1.0x the C loop (TCP and UDP rate)%s", form,
          key == "plain" and " (reported, not claimed)" or ""), rt >= 1.0 and ru >= 1.0,
          string.format("TCP %s, UDP %s", ratio(med[key].tcp, c.tcp), ratio(med[key].udp, c.udp)))
      end
    end
    local rs = r("seg", c, "tcp")
    check("offload, per-segment callbacks >= 4x the C loop (TCP)", rs and rs >= 4, ratio(med.seg and med.seg.tcp, c.tcp))
  end
  if k then
    for _, key in ipairs { "whole", "nat", "natmap" } do
      local rw = r(key, k, "tcp")
      check(key .. " superpackets >= 0.8x the veth ceiling (TCP)", rw and rw >= 0.8,
        ratio(med[key] and med[key].tcp, k.tcp))
    end
  end
  -- each mode against the plain forwarder of its form
  for _, m in ipairs { { "seg", "plain" }, { "whole", "plain" }, { "nat", "plain" }, { "natmap", "plain" },
                       { "natplain", "plain" }, { "natplainto", "plainto" } } do
    local key, base = m[1], m[2]
    local want = key:match("^nat") and 0.9 or 1.0
    local ru = r(key, med[base], "udp")
    if ru then
      check(string.format("%s >= %.1fx %s (64-byte UDP rate)", key, want, base), ru >= want,
        ratio(med[key].udp, med[base].udp))
    end
  end
  local p, ri = med.plain, med.replidle
  if p and ri then
    check("forwarder with the REPL idle at its prompt >= 0.95x `vnet script.lua` (TCP and UDP rate)",
      ri.tcp / p.tcp >= 0.95 and ri.udp / p.udp >= 0.95,
      string.format("TCP %s, UDP %s", ratio(ri.tcp, p.tcp), ratio(ri.udp, p.udp)))
  end
  if med.python then
    local behind = {}
    for _, key in ipairs(MODES) do
      for _, field in ipairs { "tcp", "udp" } do
        if med[key] and med[key][field] <= med.python[field] then
          behind[#behind + 1] = string.format("%s %s %s", key, field:upper(), ratio(med[key][field], med.python[field]))
        end
      end
    end
    check("every vnet mode ahead of the Python loop (TCP and UDP)", #behind == 0,
      #behind == 0 and "all" or "behind: " .. table.concat(behind, ", "))
  end
  if q and q.python then
    local behind, n = {}, 0
    for _, key in ipairs(MODES) do
      if q[key] then
        n = n + 1
        if q[key].tcpq <= q.python.tcpq then
          behind[#behind + 1] = string.format("%s %s", key, ratio(q[key].tcpq, q.python.tcpq))
        end
      end
    end
    if n > 0 then
      check("every vnet mode ahead of the Python loop in TCP with the TUNs' queue long enough for the stream",
        #behind == 0, #behind == 0 and "all" or "behind: " .. table.concat(behind, ", "))
    end
  end
  return t
end

function R.write(opt, data, selected, control, memory, repl, topo, capture)
  local L = {}
  local function w(...) L[#L + 1] = table.concat({ ... }) end
  w("# vnet benchmark results")
  w("")
  w("Made by `make bench` (bench/bench.lua) on ", os.date("!%Y-%m-%d %H:%M UTC"), ".")
  w("Machine: ", machine(), ".")
  w("")
  w("Every figure is the median of ", opt.reps, " runs made in the same session, contestants")
  w("interleaved; ratios are against the C loop and the kernel's veth measured in that same run.")
  w("Noise is (max - min) / median over the runs.")
  w("")
  w("## Data plane: A <-> forwarder <-> B, TUN MTU 1500")
  w("")
  w("TCP: iperf3, ", opt.secs, " s, nothing pinned. UDP: bench/udpflood, 64-byte payloads sent with")
  w("sendmmsg for ", opt.secs, " s; the forwarder alone on CPU 1, the sender on CPU 0;")
  w("datagrams the contestant delivered into B per second (B's UDP layer: B's socket reads nothing,")
  w("so each datagram reaches it and is counted as its full buffer drops it; not fb's receive")
  w("counter, where a coalesced write counts once), and (last column) what the sender offered.")
  w("")
  w("| contestant | TCP Gbit/s | vs C loop | vs veth | noise | UDP kpps | vs C loop | vs veth | noise | offered kpps |")
  w("|---|---|---|---|---|---|---|---|---|---|")
  local med = {}
  for _, c in ipairs(selected) do
    local r = data[c.key]
    if r and #r.tcp > 0 then
      med[c.key] = { tcp = U.median(r.tcp), udp = U.median(r.udp), offered = U.median(r.offered) }
    end
  end
  for _, c in ipairs(selected) do
    local m = med[c.key]
    if m then
      w(string.format("| %s | %.2f | %s | %s | %.0f%% | %.0f | %s | %s | %.0f%% | %.0f |", c.name, m.tcp / 1e9,
        ratio(m.tcp, med.cloop and med.cloop.tcp), ratio(m.tcp, med.kernel and med.kernel.tcp),
        U.spread(data[c.key].tcp), m.udp / 1e3,
        ratio(m.udp, med.cloop and med.cloop.udp), ratio(m.udp, med.kernel and med.kernel.udp),
        U.spread(data[c.key].udp), (m.offered or 0) / 1e3))
    else
      w("| ", c.name, " | failed | | | | | | | | |")
    end
  end
  -- TCP at the kernel's queue and at opt.qlen, with what drove the difference
  local q = {}
  for _, c in ipairs(selected) do
    local r = data[c.key]
    if r and r.tcpq and #r.tcpq > 0 then
      q[c.key] = { tcp = U.median(r.tcp), retrans = U.median(r.retrans), drops = U.median(r.drops),
        tcpq = U.median(r.tcpq), retransq = U.median(r.retransq), dropsq = U.median(r.dropsq),
        noise = U.spread(r.tcpq) }
    end
  end
  if next(q) then
    w("")
    w("## TCP and the TUN's queue")
    w("")
    w("The same runs' TCP stream, with what it cost: the segments A retransmitted (iperf3) and the")
    w("packets fa's queue dropped (`ip -s link`, a witness apart from iperf3), at the kernel's default")
    w("txqueuelen (500 for a TUN) and then, last in each round, with both TUNs' txqueuelen at ", opt.qlen, ".")
    w("A TUN's queue drops what its ring has no room for, and it tells the sender nothing (the skb is")
    w("orphaned, so TCP Small Queues never hold the stream back): CUBIC grows the window until the ring")
    w("overflows, and a slower forwarder overflows it less often. Medians; noise is the second stream's.")
    w("")
    w(string.format("| contestant | TCP Gbit/s, default queue | retransmitted | dropped at fa | TCP Gbit/s, queue %d | vs C loop | vs Python | retransmitted | dropped at fa | noise |", opt.qlen))
    w("|---|---|---|---|---|---|---|---|---|---|")
    for _, c in ipairs(selected) do
      local m = q[c.key]
      if m then
        w(string.format("| %s | %.2f | %.0f | %.0f | %.2f | %s | %s | %.0f | %.0f | %.0f%% |", c.name, m.tcp / 1e9,
          m.retrans, m.drops, m.tcpq / 1e9, ratio(m.tcpq, q.cloop and q.cloop.tcpq),
          ratio(m.tcpq, q.python and q.python.tcpq), m.retransq, m.dropsq, m.noise))
      end
    end
  end
  w("")
  w("## Targets")
  w("")
  w("| target | result | measured |")
  w("|---|---|---|")
  for _, line in ipairs(targets(med, q)) do w(line) end
  if control then
    w("")
    w(control.markdown)
  end
  if memory then
    w("")
    w(memory.markdown)
  end
  if repl then
    w("")
    w(repl.markdown)
  end
  if topo then
    w("")
    w(topo.markdown)
  end
  if capture then
    w("")
    w(capture.markdown)
  end
  -- the hand-written analysis of the last profiling run (bench/profile.sh)
  local a = io.open("bench/analysis.md")
  if a then
    w("")
    w(a:read("a"))
    a:close()
  end
  local text = table.concat(L, "\n") .. "\n"
  local f = assert(io.open(opt.out, "w"))
  f:write(text)
  f:close()
  return text
end

return R
