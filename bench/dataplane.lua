--- dataplane.lua: the forwarding contestants of `make bench`.
--
-- Two namespaces, A (10.200.0.1) and B (10.200.0.2), are joined by each
-- contestant in turn and measured in the same run: TCP throughput with
-- iperf3 (MTU 1500, everything free to use both cores) with the
-- retransmissions and fa's queue drops behind it, and small-packet UDP
-- rate with bench/udpflood (64-byte payloads, 64 per sendmmsg; what the
-- contestant delivers into B per second, counted by B's UDP layer). For
-- the UDP rate the forwarder has CPU 1 to itself (with the receiving
-- namespace's IP and UDP input, which a write to a TUN runs in the
-- writer's context) and the sender has CPU 0; it offers more than any
-- contestant carries, so it is never what limits the rate. Last, TCP
-- again with both TUNs' txqueuelen at opt.qlen (0: not measured): at the
-- kernel's 500 every per-packet forwarder overflows the TUN's ring.
local json = require "dkjson"
local U = require "bench.util"
local sh, must, sleep = U.sh, U.must, U.sleep

local M = {}
local A, B = "vbA", "vbB"
local PY = "/usr/bin/python3"

-- The contestants. start() returns a handle with :stop(), or nil for the
-- kernel's own veth; target is where A sends.
local contestants = {
  { name = "kernel veth", key = "kernel" },
  { name = "C read/write loop", key = "cloop", cmd = "build/bench/cfwd vbA vbB" },
  { name = "vnet Lua, plain", key = "plain", cmd = "build/vnet bench/fwd.lua plain vbA vbB" },
  { name = "vnet Lua, plain, to = fb (the loop writes)", key = "plainto",
    cmd = "build/vnet bench/fwd.lua plain-to vbA vbB" },
  { name = "vnet Lua, plain, read/write (no io_uring)", key = "plainrw",
    cmd = "env VNET_NO_URING=1 build/vnet bench/fwd.lua plain vbA vbB" },
  { name = "vnet Lua, plain, REPL idle at its prompt", key = "replidle",
    cmd = "sh bench/replfwd.sh plain vbA vbB" },
  { name = "vnet Lua, offload, per segment", key = "seg", cmd = "build/vnet bench/fwd.lua seg vbA vbB" },
  { name = "vnet Lua, offload, whole", key = "whole", cmd = "build/vnet bench/fwd.lua whole vbA vbB" },
  { name = "vnet Lua NAT, offload, whole", key = "nat", nat = true,
    cmd = "build/vnet bench/fwd.lua nat vbA vbB" },
  { name = "vnet Lua NAT with vnet.proto.nat, offload, whole", key = "natmap", nat = true,
    cmd = "build/vnet bench/fwd.lua natmap vbA vbB" },
  { name = "vnet Lua NAT, no offload", key = "natplain", nat = true,
    cmd = "build/vnet bench/fwd.lua natplain vbA vbB" },
  { name = "vnet Lua NAT, no offload, to = fb", key = "natplainto", nat = true,
    cmd = "build/vnet bench/fwd.lua natplain-to vbA vbB" },
  { name = "Python os.read/os.write", key = "python", cmd = PY .. " bench/pyfwd.py vbA vbB" },
}

local function start(c)
  must("ip netns add " .. A .. " && ip netns add " .. B)
  local proc
  if c.key == "kernel" then
    must("ip -n vbA link add fa type veth peer name fb netns vbB")
  else
    local f = assert(io.popen(c.cmd .. " 2>&1 & echo $!"))
    -- the shell's echo of the pid and the forwarder's "ready" race: take
    -- them in whichever order they come
    local pid, ready = f:read("l"), f:read("l")
    if pid and not pid:match("^%d+$") then pid, ready = ready, pid end
    if not (ready and ready:match("^ready")) then
      error(c.name .. " did not start: " .. tostring(ready) .. (f:read("a") or ""))
    end
    -- cpu_pid: the forwarder itself, when pid is a wrapper (replfwd.sh)
    proc = { pid = pid, file = f, cpu_pid = ready:match("^ready (%d+)$") or pid }
  end
  local peer = c.nat and "10.200.0.99" or "10.200.0.2"
  must("ip -n vbA link set lo up && ip -n vbB link set lo up")
  must("ip -n vbA addr add 10.200.0.1 peer " .. peer .. " dev fa && ip -n vbA link set fa up")
  must("ip -n vbB addr add 10.200.0.2 peer 10.200.0.1 dev fb && ip -n vbB link set fb up")
  return proc, peer
end

local function stop(proc)
  if proc then
    os.execute("kill -TERM " .. proc.pid .. " 2>/dev/null")
    proc.file:read("a")
    proc.file:close()
  end
  sh("ip netns pids vbA | xargs -r kill; ip netns pids vbB | xargs -r kill")
  sh("ip netns del vbA; ip netns del vbB")
end

-- What fa's queue dropped so far: packets A's stack sent that the TUN's
-- ring had no room for (each one a TCP retransmission later). The veth's
-- fa has no such ring: 0.
local function fa_drops()
  local l = assert(json.decode(must("ip -n vbA -s -j link show dev fa")))[1]
  return l.stats64 and l.stats64.tx.dropped or l.stats.tx.dropped
end

-- TCP from A to target for opt.secs: bits a second B received, the
-- segments A's iperf3 says it retransmitted, and what fa's queue dropped
-- meanwhile (iproute2's count: a witness apart from iperf3's).
local function iperf(opt, target)
  local d0 = fa_drops()
  local out = must("ip netns exec vbA iperf3 -J -c " .. target .. " -t " .. opt.secs)
  local r = assert(json.decode(out), out)
  assert(not r.error, r.error)
  return r["end"].sum_received.bits_per_second, r["end"].sum_sent.retransmits or 0, fa_drops() - d0
end

-- The TUNs' queue (txqueuelen: the pfifo_fast limit and the TUN's ring)
-- set on both ends, for every contestant alike.
local function set_qlen(n)
  must("ip -n vbA link set fa txqueuelen " .. n .. " && ip -n vbB link set fb txqueuelen " .. n)
end

-- Datagrams per second the contestant delivered into B while A floods:
-- what B's UDP layer took over the opt.secs of sending (/proc/net/snmp in
-- B). B's socket reads nothing (udpflood sink: the smallest buffer), so
-- every datagram reaches it and is dropped there, and the kernel counts
-- each as it drops it. A reading receiver shares CPU 0 with the sender:
-- it cut what the sender offered to about what any forwarder carried, and
-- how the two split CPU 0 moved the count by 27-270% between rounds. Not
-- fb's receive counter either: a coalesced write of 64 datagrams counts
-- there as one packet.
local function b_udp()
  local out = must("ip netns exec vbB cat /proc/net/snmp")
  local names, values = out:match("\nUdp: ([^\n]+)\nUdp: ([^\n]+)")
  assert(names, out)
  local t, k = {}, {}
  for n in names:gmatch("%S+") do k[#k + 1] = n end
  local i = 0
  for v in values:gmatch("%S+") do i = i + 1; t[k[i]] = tonumber(v) end
  return t.InDatagrams + t.InErrors
end

local function udp_rate(opt, target, proc)
  if proc then must("taskset -pc 1 " .. proc.cpu_pid) end
  local sink = assert(io.popen("ip netns exec vbB taskset -c 0 build/bench/udpflood sink 9999 " ..
    (opt.secs + 1) .. " 2>&1"))
  local ready = sink:read("l")
  assert(ready == "ready", "udpflood sink: " .. tostring(ready))
  local rx0, t0 = b_udp(), U.now()
  local sent = must("ip netns exec vbA taskset -c 0 build/bench/udpflood send " .. target ..
    " 9999 " .. opt.secs)
  local rx1, t1 = b_udp(), U.now()
  sink:read("a")
  sink:close()
  return (rx1 - rx0) / (t1 - t0), tonumber(sent:match("sent (%d+)")) / opt.secs
end

local function measure(opt, c)
  local proc, target = start(c)
  local srv -- closed only after stop() killed it: closing waits for it
  local ok, res = pcall(function()
    srv = assert(io.popen("ip netns exec vbB iperf3 -s >/dev/null 2>&1"))
    sleep(0.3)
    local tcp, retrans, drops = iperf(opt, target)
    local udp, offered = udp_rate(opt, target, proc)
    local r = { tcp = tcp, retrans = retrans, drops = drops, udp = udp, offered = offered }
    -- last, so the UDP rate is measured at the kernel's default as always:
    -- TCP again with a queue long enough for the stream's window
    if opt.qlen > 0 then
      set_qlen(opt.qlen)
      r.tcpq, r.retransq, r.dropsq = iperf(opt, target)
    end
    return r
  end)
  stop(proc)
  if srv then srv:close() end
  if not ok then io.stderr:write(c.name, ": ", tostring(res), "\n"); return nil end
  return res
end

M.contestants = contestants
M.start, M.stop = start, stop

--- Run REPS rounds, each contestant once per round (interleaved, so a
-- drift in the machine's load spreads over all of them).
function M.run(opt)
  local selected = {}
  for _, c in ipairs(contestants) do
    if not opt.only or ("," .. opt.only .. ","):find("," .. c.key .. ",", 1, true) then
      selected[#selected + 1] = c
    end
  end

  local results = {}
  for rep = 1, opt.reps do
    for _, c in ipairs(selected) do
      io.stderr:write(string.format("round %d/%d: %s ... ", rep, opt.reps, c.name))
      local r = measure(opt, c)
      local t = results[c.key] or { tcp = {}, udp = {}, offered = {} }
      results[c.key] = t
      if r then
        for k, v in pairs(r) do
          t[k] = t[k] or {}
          table.insert(t[k], v)
        end
        io.stderr:write(string.format("%.2f Gbit/s (%d retransmitted, %d dropped at fa), " ..
          "%.0f kpps (of %.0f kpps offered)%s\n", r.tcp / 1e9, r.retrans, r.drops, r.udp / 1e3,
          r.offered / 1e3, r.tcpq and string.format("; queue %d: %.2f Gbit/s (%d, %d)", opt.qlen,
          r.tcpq / 1e9, r.retransq, r.dropsq) or ""))
      else
        io.stderr:write("failed\n")
      end
    end
  end

  return results, selected
end

return M
