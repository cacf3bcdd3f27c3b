--- control.lua: control-plane timings, in rounds that interleave the
-- tools (round 1: vnet, ip, pyroute2 on every task; round 2: again...), so
-- that load from elsewhere on the machine falls on all of them alike.
-- In a fresh namespace each time:
--   * create then delete 1000 veth pairs: vnet (veth.create_many, one
--     batch; deleted by session.undo: one group delete), `ip -batch` (link
--     add / link del lines), `ip -batch` told to give each end one queue as
--     vnet does (create only: its delete is ip's), pyroute2 (one by one);
--   * a vnet process that made 1000 pairs ends (its session undoes them),
--     against the ip -batch and pyroute2 deletes of the first task;
--   * 200 namespaces, each joined by a veth to one bridge, then torn down;
-- pyroute2 is Debian's python3-pyroute2 (sh tools/deps.sh --bench); its
-- rows say so when it is missing. Wall-clock seconds, medians of REPS rounds.
-- Part of `make bench` (bench.lua); alone: see the end of this file.
local U = require "bench.util"
local now = vnet.loop.now
local M = {}

local PAIRS, NSES = 1000, 200

-- vnet: everything inside one anonymous namespace made for the run
local function vnet_veths()
  local ns <close> = assert(vnet.netns.create())
  return ns:run(function()
    local list = {}
    for i = 1, PAIRS do list[i] = { name = "va" .. i, peer = "vb" .. i } end
    local t0 = now()
    local as = assert(vnet.veth.create_many(list))
    local t1 = now()
    assert(#as == PAIRS)
    assert(vnet.session.undo())
    return t1 - t0, now() - t1
  end)
end

-- A vnet process makes 1000 pairs in a named namespace and ends: its
-- session deletes them. End = from the last create to the process's exit.
local SESSION = [[
local list = {}
for i = 1, %d do list[i] = { name = "va" .. i, peer = "vb" .. i } end
local t0 = vnet.loop.now()
assert(vnet.veth.create_many(list))
local t1 = vnet.loop.now()
print(string.format("%%.6f %%.6f", t1 - t0, t1))
]]

local function vnet_session_end()
  local f = os.tmpname() .. ".lua"
  local h = assert(io.open(f, "w"))
  h:write(string.format(SESSION, PAIRS))
  h:close()
  U.must("ip netns add vbS")
  local ok, out = pcall(U.must, "ip netns exec vbS " .. (os.getenv("VNET_BIN") or "build/vnet") .. " " .. f)
  local t2 = now()
  os.remove(f)
  local left = U.sh("ip -n vbS -o link show | wc -l")
  U.sh("ip netns del vbS")
  if not ok then error(out, 0) end
  assert(tonumber(left) == 1, "the session left links behind: " .. left)
  local c, t1 = out:match("([%d.]+) ([%d.]+)")
  return tonumber(c), t2 - tonumber(t1)
end

local function vnet_bridge()
  local ns <close> = assert(vnet.netns.create())
  return ns:run(function()
    local t0 = now()
    assert(vnet.bridge.create { name = "br0" })
    local spaces, list = {}, {}
    for i = 1, NSES do
      spaces[i] = assert(vnet.netns.create())
      list[i] = { name = "h" .. i, peer = "c" .. i, peer_netns = spaces[i], master = "br0", up = true }
    end
    local hosts = assert(vnet.veth.create_many(list))
    local t1 = now()
    assert(#hosts == NSES)
    assert(vnet.session.undo())
    for i = 1, NSES do spaces[i]:close() end
    return t1 - t0, now() - t1
  end)
end

-- ip -batch, in a named namespace of the bench's private /run/netns
local function ipbatch(lines, where)
  local f = os.tmpname()
  local h = assert(io.open(f, "w"))
  h:write(table.concat(lines, "\n"), "\n")
  h:close()
  local t0 = now()
  U.must("ip " .. (where or "-n vbC") .. " -batch " .. f)
  local dt = now() - t0
  os.remove(f)
  return dt
end

local function ip_veths(oneq)
  U.must("ip netns add vbC")
  local q = oneq and " numtxqueues 1 numrxqueues 1" or ""
  local add, del = {}, {}
  for i = 1, PAIRS do
    add[i] = "link add va" .. i .. q .. " type veth peer name vb" .. i .. q
    del[i] = "link del va" .. i
  end
  local a = ipbatch(add)
  local d = not oneq and ipbatch(del) or nil
  U.must("ip netns del vbC")
  return a, d
end

-- `netns add` moves the ip process itself into the new namespace, so the
-- namespaces are made by a batch of their own, outside vbC. Each veth is
-- made in the bridge and up in its one line, as vnet makes it in one request.
local function ip_bridge(oneq)
  U.must("ip netns add vbC")
  local q = oneq and " numtxqueues 1 numrxqueues 1" or ""
  local ns_add, ns_del, add, del = {}, {}, { "link add br0 type bridge" }, {}
  for i = 1, NSES do
    ns_add[i] = "netns add vbn" .. i
    ns_del[i] = "netns del vbn" .. i
    add[#add + 1] = "link add h" .. i .. " master br0 up" .. q .. " type veth peer name c" .. i ..
      " netns vbn" .. i .. q
    del[#del + 1] = "link del h" .. i
  end
  del[#del + 1] = "link del br0"
  local a = ipbatch(ns_add, "") + ipbatch(add)
  local d = ipbatch(del) + ipbatch(ns_del, "")
  U.must("ip netns del vbC")
  return a, not oneq and d or nil
end

local PYROUTE = [[
import sys, time
from pyroute2 import IPRoute, netns
what, n = sys.argv[1], int(sys.argv[2])
ipr = IPRoute()
if what == "veth":
    t0 = time.monotonic()
    for i in range(1, n + 1):
        ipr.link("add", ifname="va%d" % i, kind="veth", peer="vb%d" % i)
    t1 = time.monotonic()
    for i in range(1, n + 1):
        ipr.link("del", index=ipr.link_lookup(ifname="va%d" % i)[0])
    t2 = time.monotonic()
else:
    t0 = time.monotonic()
    ipr.link("add", ifname="br0", kind="bridge")
    br = ipr.link_lookup(ifname="br0")[0]
    for i in range(1, n + 1):
        netns.create("vbp%d" % i)
        ipr.link("add", ifname="h%d" % i, kind="veth", peer={"ifname": "c%d" % i, "net_ns_fd": "vbp%d" % i})
        h = ipr.link_lookup(ifname="h%d" % i)[0]
        ipr.link("set", index=h, master=br, state="up")
    t1 = time.monotonic()
    for i in range(1, n + 1):
        ipr.link("del", index=ipr.link_lookup(ifname="h%d" % i)[0])
        netns.remove("vbp%d" % i)
    ipr.link("del", index=br)
    t2 = time.monotonic()
print(t1 - t0, t2 - t1)
]]

local function pyroute(what, n)
  local f = os.tmpname() .. ".py"
  local h = assert(io.open(f, "w"))
  h:write(PYROUTE)
  h:close()
  U.must("ip netns add vbP")
  local ok, out = pcall(U.must, "ip netns exec vbP /usr/bin/python3 " .. f .. " " .. what .. " " .. n)
  U.sh("ip netns del vbP")
  if not ok then error(out, 0) end
  os.remove(f)
  local a, d = out:match("([%d.]+) ([%d.]+)")
  return tonumber(a), tonumber(d)
end

-- why the pyroute2 rows are empty, or nil when it can run
local function pyroute_missing()
  local _, code = U.sh("/usr/bin/python3 -c 'import pyroute2'")
  if code ~= 0 then
    return "skipped: python3-pyroute2 is not installed (sh tools/deps.sh --bench)"
  end
end

local who_label = { vnet = "vnet", ip = "ip -batch", ip1q = "ip -batch, 1 queue per end",
  py = "pyroute2" }
local order = { "vnet", "ip", "ip1q", "py" }

local tasks = {
  { key = "veth", name = PAIRS .. " veth pairs", vnet = vnet_veths, ip = ip_veths,
    ip1q = function() return ip_veths(true) end,
    py = function() return pyroute("veth", PAIRS) end },
  { key = "session", name = PAIRS .. " veth pairs, made then left at the session's end",
    vnet = vnet_session_end, ip = "veth", py = "veth" },
  { key = "bridge", name = NSES .. " namespaces, each with a veth into a bridge", vnet = vnet_bridge,
    ip = ip_bridge, ip1q = function() return ip_bridge(true) end,
    py = function() return pyroute("bridge", NSES) end },
}

local function ratio(t, v)
  if not t or not v or v <= 0 then return "" end
  return string.format("%.2fx", t / v)
end

function M.run(opt)
  local res, samples, failed = {}, {}, {}
  local skip = { py = pyroute_missing() }
  for _, t in ipairs(tasks) do
    samples[t.key] = {}
    for _, who in ipairs(order) do samples[t.key][who] = { c = {}, d = {} } end
  end
  for rep = 1, opt.reps do -- rounds: every tool once per round
    for _, t in ipairs(tasks) do
      for _, who in ipairs(order) do
        local fn = t[who]
        if type(fn) == "function" and not skip[who] and not failed[t.key .. who] then
          io.stderr:write(string.format("control %d/%d: %s, %s ... ", rep, opt.reps, t.name, who))
          local ok, a, b = pcall(fn)
          local s = samples[t.key][who]
          if ok and a then
            s.c[#s.c + 1], s.d[#s.d + 1] = a, b
            s.round = s.round or {}
            s.round[rep] = a
            io.stderr:write(string.format("create %.3f s, delete %s\n", a,
              b and string.format("%.3f s", b) or "-"))
          else
            io.stderr:write("failed: ", tostring(a), "\n")
            failed[t.key .. who] = tostring(a)
            U.sh("ip netns del vbC")
          end
        end
      end
    end
  end
  for _, t in ipairs(tasks) do
    res[t.key] = {}
    for _, who in ipairs(order) do
      local fn, s = t[who], samples[t.key][who]
      if type(fn) == "string" then -- the same work as that task's: its figures
        res[t.key][who] = res[fn][who]
      elseif fn then
        res[t.key][who] = { create = U.median(s.c), delete = U.median(s.d), spread = U.spread(s.c),
          why = skip[who] or failed[t.key .. who], round = s.round or {} }
      end
    end
  end
  local L = { "## Control plane", "",
    "Wall-clock seconds, medians of " .. opt.reps .. " rounds that interleave the tools, " ..
    "each run in a fresh namespace. vnet creates with `veth.create_many` (one batch) and " ..
    "tears down with `session.undo()` (one group delete).",
    "Speed columns: the tool's time over vnet's; above 1x means vnet is faster. " ..
    "The last but one column divides within each round (both measured a few seconds apart, " ..
    "under the same load) and takes the median of those ratios.", "",
    "| task | tool | create s | delete s | vnet create speed vs this | vnet delete speed vs this | " ..
    "create speed, median of per-round ratios | noise |",
    "|---|---|---|---|---|---|---|---|" }
  for _, t in ipairs(tasks) do
    local v = res[t.key].vnet
    for _, who in ipairs(order) do
      local r = res[t.key][who]
      if r and r.create then
        local per = {}
        for rep, c in pairs(r.round) do
          if v.round[rep] then per[#per + 1] = c / v.round[rep] end
        end
        local pr = U.median(per)
        L[#L + 1] = string.format("| %s | %s | %.3f | %s | %s | %s | %s | %.0f%% |", t.name, who_label[who],
          r.create, r.delete and string.format("%.3f", r.delete) or "(not measured)",
          ratio(r.create, v.create), ratio(r.delete, v.delete),
          pr and string.format("%.2fx", pr) or "", r.spread)
      elseif r then
        L[#L + 1] = string.format("| %s | %s | %s | | | | | |", t.name, who_label[who], r.why or "failed")
      end
    end
  end
  -- issue 15's targets and issue 11's teardown, from the figures above
  local function per_round(key, who)
    local r, v, per = res[key][who], res[key].vnet, {}
    if not (r and r.round and v.round) then return nil end
    for rep, c in pairs(r.round) do
      if v.round[rep] then per[#per + 1] = c / v.round[rep] end
    end
    return U.median(per)
  end
  local function target(what, key, who, want)
    local r, v = res[key][who], res[key].vnet
    if not (r and r.create and v.create) then
      return string.format("| %s | not measured | %s |", what, r and r.why or "vnet failed")
    end
    local x, pr = r.create / v.create, per_round(key, who)
    return string.format("| %s | %s | %.2fx (median of per-round ratios %s) |", what,
      x >= want and "met" or "**missed**", x, pr and string.format("%.2fx", pr) or "n/a")
  end
  L[#L + 1] = ""
  L[#L + 1] = "Targets (issue 15 and issue 11 item 4), from the table above:"
  L[#L + 1] = ""
  L[#L + 1] = "| target | result | measured |"
  L[#L + 1] = "|---|---|---|"
  L[#L + 1] = target(PAIRS .. " veth pairs >= 1.0x `ip -batch`", "veth", "ip", 1.0)
  L[#L + 1] = target(PAIRS .. " veth pairs >= 2x pyroute2", "veth", "py", 2.0)
  L[#L + 1] = target(NSES .. " namespaces into a bridge >= 1.0x `ip -batch`", "bridge", "ip", 1.0)
  L[#L + 1] = target(NSES .. " namespaces into a bridge >= 2x pyroute2", "bridge", "py", 2.0)
  local se, ipd, pyd = res.session.vnet, res.veth.ip, res.veth.py
  if se and se.delete then
    L[#L + 1] = string.format("| a session that made %d veth pairs ends in well under 2 s | %s | " ..
      "%.2f s (`ip -batch` deletes: %s, pyroute2: %s) |", PAIRS, se.delete < 1 and "met" or "**missed**",
      se.delete, ipd and ipd.delete and string.format("%.1f s", ipd.delete) or "n/a",
      pyd and pyd.delete and string.format("%.1f s", pyd.delete) or "n/a")
  end
  res.markdown = table.concat(L, "\n")
  return res
end

-- alone (the control rows only): unshare --mount sh -c 'mount -t tmpfs x
-- /run && mkdir /run/netns && build/vnet bench/control.lua [rounds]'
if ... ~= "bench.control" then
  print(M.run { reps = tonumber((...)) or 3 }.markdown)
end

return M
