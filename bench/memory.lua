--- memory.lua: the forwarder's memory over many packets. The vnet
-- forwarder runs with per-segment callbacks (the busiest Lua path) under an
-- iperf3 TCP stream until its callbacks have seen `packets` packets; its
-- resident set is read from /proc at warm-up (the first 10%) and at the
-- end, and its peak (VmHWM).
local U = require "bench.util"
local dp = require "bench.dataplane"
local M = {}

local function status(pid)
  local f = io.open("/proc/" .. pid .. "/status")
  if not f then return {} end
  local t = {}
  for line in f:lines() do
    local k, v = line:match("^(Vm%w+):%s+(%d+) kB")
    if k then t[k] = tonumber(v) end
  end
  f:close()
  return t
end

function M.run(opt)
  local target = opt.packets
  local c = { name = "vnet seg (stats)", key = "memory",
    cmd = "VNET_FWD_STATS=1 build/vnet bench/fwd.lua seg vbA vbB" }
  local proc = dp.start(c)
  local srv = io.popen("ip netns exec vbB iperf3 -s >/dev/null 2>&1")
  U.sleep(0.3)
  local cli = io.popen("ip netns exec vbA iperf3 -c 10.200.0.2 -t 600 >/dev/null 2>&1")
  local warm, last, heap0, heap1, t0 = nil, nil, nil, nil, U.now()
  local samples = {}
  while true do
    local line = proc.file:read("l")
    if not line then break end
    local n, heap = line:match("^stats (%d+) (%d+)")
    n, heap = tonumber(n), tonumber(heap)
    if n then
      local st = status(proc.pid)
      samples[#samples + 1] = { n = n, rss = st.VmRSS, heap = heap }
      if not warm and n >= target / 10 then warm, heap0 = st.VmRSS, heap end
      if n >= target then last, heap1 = st, heap break end
      if U.now() - t0 > 900 then break end
    end
  end
  local elapsed = U.now() - t0
  os.execute("ip netns pids vbA | xargs -r kill")
  dp.stop(proc)
  srv:close(); cli:close()
  local r = { warm = warm, final = last and last.VmRSS, peak = last and last.VmHWM,
    heap0 = heap0, heap1 = heap1, packets = samples[#samples] and samples[#samples].n or 0,
    seconds = elapsed }
  local L = {}
  L[#L + 1] = "## Forwarder memory"
  L[#L + 1] = ""
  L[#L + 1] = string.format("The vnet forwarder with per-segment callbacks, under an iperf3 TCP stream, until " ..
    "its callbacks had seen %d packets (%.0f s).", r.packets, r.seconds)
  L[#L + 1] = ""
  L[#L + 1] = "| | RSS KiB | Lua heap KiB |"
  L[#L + 1] = "|---|---|---|"
  L[#L + 1] = string.format("| after warm-up (10%% of the packets) | %s | %s |", tostring(r.warm), tostring(r.heap0))
  L[#L + 1] = string.format("| at the end | %s | %s |", tostring(r.final), tostring(r.heap1))
  L[#L + 1] = string.format("| peak (VmHWM) | %s | |", tostring(r.peak))
  if r.warm and r.final then
    L[#L + 1] = ""
    L[#L + 1] = string.format("Growth after warm-up: %d KiB of RSS over %d packets (target: flat).",
      r.final - r.warm, r.packets)
  end
  r.markdown = table.concat(L, "\n")
  return r
end

return M
