--- capture.lua: the capture rows of `make bench` (issue 13).
--
-- A veth pair joins namespaces A (10.200.0.1) and B (10.200.0.2);
-- bench/udpflood floods 64-byte UDP datagrams from A to a receiver in B
-- (both on CPU 0) while one capturer at a time, alone on CPU 1, listens on
-- B's end: vnet (scripts/capture.lua -w /dev/null), tcpdump -w /dev/null,
-- and scapy's sniff(store=False). Each reports what it captured and the
-- kernel dropped; the rate is packets captured per second of flood. Then
-- vnet once more with a filter that matches 1% of the datagrams (IP ids
-- divisible by 100: a connected UDP socket numbers them in turn), counting
-- its Lua callbacks; and once for `packets` packets, its resident set read
-- from /proc each second.
local U = require "bench.util"
local must, sh, sleep = U.must, U.sh, U.sleep
local M = {}

local ONE_PCT = "udp and ip[4:2] % 100 = 0"
local capturers = {
  { key = "vnet", name = "vnet capture.lua -w /dev/null",
    cmd = "build/vnet scripts/capture.lua fb -w /dev/null", ready = "listening on" },
  { key = "tcpdump", name = "tcpdump -w /dev/null",
    cmd = "tcpdump -i fb -nn -w /dev/null", ready = "listening on" },
  { key = "scapy", name = "scapy sniff(store=False)",
    cmd = "/usr/bin/python3 bench/sniff.py fb", ready = "listening" },
}

local function setup()
  must("ip netns add vbA && ip netns add vbB")
  must("ip -n vbA link add fa type veth peer name fb netns vbB")
  must("ip -n vbA addr add 10.200.0.1/24 dev fa && ip -n vbA link set fa up && ip -n vbA link set lo up")
  must("ip -n vbB addr add 10.200.0.2/24 dev fb && ip -n vbB link set fb up && ip -n vbB link set lo up")
end

local function teardown()
  sh("ip netns pids vbA | xargs -r kill; ip netns pids vbB | xargs -r kill")
  sh("ip netns del vbA; ip netns del vbB")
end

-- CPU seconds (user + system) the process has used so far
local function cpu(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  local rest = s:match("%) (.*)$")
  local fields = {}
  for x in rest:gmatch("%S+") do fields[#fields + 1] = x end
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100 -- fields 14, 15; USER_HZ 100
end

local function rss(pid)
  local f = io.open("/proc/" .. pid .. "/status")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s+(%d+)"))
end

-- One capturer during a flood of secs seconds: captured, dropped, sent,
-- and the RSS samples (kB) of the capturer, one a second.
local function once(c, secs, extra)
  setup()
  local f = assert(io.popen("ip netns exec vbB taskset -c 1 " .. c.cmd .. " " .. (extra or "") ..
    " 2>&1 & echo $!"))
  local pid = f:read("l")
  local line = f:read("l") or ""
  while not line:find(c.ready, 1, true) do
    local more = f:read("l")
    if not more then error(c.name .. " did not start: " .. line) end
    line = more
  end
  sleep(0.3)
  local recv = assert(io.popen("ip netns exec vbB taskset -c 0 build/bench/udpflood recv 9999 " ..
    (secs + 5) .. " 2>&1"))
  assert(recv:read("l") == "ready")
  local send = assert(io.popen("ip netns exec vbA taskset -c 0 build/bench/udpflood send 10.200.0.2 9999 " ..
    secs .. " 2>&1"))
  local samples = {}
  for _ = 1, math.floor(secs) do
    sleep(1)
    local r = rss(pid)
    -- the vnet process is the one ip netns exec became (exec, same pid)
    samples[#samples + 1] = r
  end
  local sent = tonumber(send:read("a"):match("sent (%d+)"))
  send:close()
  recv:read("a")
  recv:close()
  sleep(0.5)
  local used = cpu(pid)
  os.execute("kill -INT " .. pid)
  for _ = 1, 50 do -- 5 s to say its counts, then it is killed
    local alive = io.open("/proc/" .. pid .. "/stat")
    if not alive then break end
    alive:close()
    sleep(0.1)
  end
  os.execute("kill -KILL " .. pid .. " 2>/dev/null")
  local out = line .. "\n" .. f:read("a")
  f:close()
  teardown()
  local captured = tonumber(out:match("(%d+) packets? captured"))
  local dropped = tonumber(out:match("(%d+) packets? dropped by kernel"))
  if not captured then error(c.name .. ": no count in its output: " .. out) end
  return { captured = captured, dropped = dropped, sent = sent, rss = samples, cpu = used }
end

M._once = once

function M.run(opt)
  local secs = opt.secs
  local res = {}
  for rep = 1, opt.reps do
    for _, c in ipairs(capturers) do
      io.stderr:write(string.format("capture round %d/%d: %s ... ", rep, opt.reps, c.name))
      local ok, r = pcall(once, c, secs)
      if ok then
        res[c.key] = res[c.key] or {}
        table.insert(res[c.key], r)
        io.stderr:write(string.format("%d captured (%.0f kpps), %s dropped, %d sent, %.2f s CPU\n",
          r.captured, r.captured / secs / 1e3, tostring(r.dropped), r.sent, r.cpu or -1))
      else
        teardown()
        io.stderr:write("failed: ", tostring(r), "\n")
      end
    end
  end
  local L = {}
  local function w(...) L[#L + 1] = table.concat({ ... }) end
  w("## Capture: one end of a veth under a 64-byte UDP flood")
  w("")
  w("bench/udpflood for ", secs, " s (sender and receiver on CPU 0), the capturer alone on CPU 1;")
  w("packets captured per second of flood (median of ", opt.reps, "), and what the kernel dropped")
  w("because the capturer fell behind (scapy: its socket has no ring, the kernel's count is not read),")
  w("and the capturer's CPU time (user + system, from /proc) per packet captured.")
  w("")
  w("| capturer | captured kpps | vs tcpdump | dropped | offered kpps | CPU us/packet | noise |")
  w("|---|---|---|---|---|---|---|")
  local med, rows = {}, {}
  for _, c in ipairs(capturers) do
    local rs = res[c.key]
    if rs then
      local pps, drop, offered, us = {}, {}, {}, {}
      for i, r in ipairs(rs) do
        pps[i] = r.captured / secs
        drop[i] = r.dropped and r.dropped / math.max(1, r.captured + r.dropped) * 100 or -1
        offered[i] = r.sent / secs
        us[i] = r.cpu and r.cpu / math.max(1, r.captured) * 1e6 or -1
      end
      med[c.key] = U.median(pps)
      rows[c.key] = { drop = U.median(drop), offered = U.median(offered), us = U.median(us),
        noise = U.spread(pps) }
    end
  end
  for _, c in ipairs(capturers) do
    local m, r = med[c.key], rows[c.key]
    if m then
      w(string.format("| %s | %.1f | %s | %s | %.0f | %.2f | %.0f%% |", c.name, m / 1e3,
        med.tcpdump and string.format("%.2fx", m / med.tcpdump) or "n/a",
        r.drop >= 0 and string.format("%.1f%%", r.drop) or "n/a", r.offered / 1e3, r.us, r.noise))
    else
      w("| ", c.name, " | failed | | | | | |")
    end
  end
  if med.vnet and med.tcpdump then
    w("")
    w(string.format("vnet / tcpdump: **%.2fx** (target >= 1.0x); vnet / scapy: **%s** (target >= 20x).",
      med.vnet / med.tcpdump, med.scapy and string.format("%.1fx", med.vnet / med.scapy) or "n/a"))
  end
  -- the 1% filter: Lua callbacks against datagrams sent
  local ok, r = pcall(once, capturers[1], secs, "'" .. ONE_PCT .. "'")
  w("")
  if ok then
    w(string.format("Filter `%s` (1%% of the datagrams): %d Lua callbacks for %d datagrams sent " ..
      "(%.2f%%), %d dropped.", ONE_PCT, r.captured, r.sent, r.captured / r.sent * 100, r.dropped or 0))
  else
    teardown()
    w("Filter row failed: ", tostring(r))
  end
  -- RSS over opt.packets packets
  local rate = med.vnet or 300000
  local long = math.min(120, math.max(secs, math.ceil(opt.packets / rate * 1.1)))
  ok, r = pcall(once, capturers[1], long)
  if ok and #r.rss > 1 then
    local lo, hi = math.huge, 0
    for _, v in ipairs(r.rss) do lo = math.min(lo, v); hi = math.max(hi, v) end
    w(string.format("RSS of the vnet capturer over %d packets captured in %d s: %d kB after 1 s, " ..
      "%d kB at the end (min %d, max %d), %d dropped.", r.captured, long, r.rss[1], r.rss[#r.rss],
      lo, hi, r.dropped or 0))
  else
    teardown()
    w("RSS row failed: ", tostring(r))
  end
  return { markdown = table.concat(L, "\n"), medians = med }
end

return M
