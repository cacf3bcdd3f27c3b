--- control.lua: control-plane timings. In a fresh namespace each time:
--   * create then delete 1000 veth pairs;
--   * a vnet session that made 1000 veth pairs ends (vnet.session undoes
--     them: one group delete), against `ip -batch` deletes and pyroute2
--     deleting the same 1000 pairs one by one (the first task's figures);
--   * 200 namespaces, each joined by a veth to one bridge, then torn down;
-- with vnet (in this process), `ip -batch`, and pyroute2 (Debian's
-- python3-pyroute2). Wall-clock seconds, medians of REPS runs.
local U = require "bench.util"
local now = vnet.loop.now
local M = {}

local PAIRS, NSES = 1000, 200

-- vnet: everything inside one anonymous namespace made for the run
local function vnet_veths()
  local ns <close> = assert(vnet.netns.create())
  return ns:run(function()
    local t0 = now()
    local ends = {}
    for i = 1, PAIRS do
      ends[i] = assert(vnet.veth.create("va" .. i, "vb" .. i))
    end
    local t1 = now()
    for i = 1, PAIRS do assert(ends[i]:delete()) end
    return t1 - t0, now() - t1
  end)
end

-- A vnet process makes 1000 pairs in a named namespace and ends: its
-- session deletes them. End = from the last create to the process's exit.
local SESSION = [[
local t0 = vnet.loop.now()
for i = 1, %d do assert(vnet.veth.create("va" .. i, "vb" .. i)) end
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
    local br = assert(vnet.bridge.create { name = "br0" })
    local spaces, hosts = {}, {}
    for i = 1, NSES do
      spaces[i] = assert(vnet.netns.create())
      local h = assert(vnet.veth.create("h" .. i, "c" .. i, { peer_netns = spaces[i] }))
      assert(h:set { master = "br0", up = true })
      hosts[i] = h
    end
    local t1 = now()
    for i = 1, NSES do
      assert(hosts[i]:delete())
      spaces[i]:close()
    end
    assert(br:delete())
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

local function ip_veths()
  U.must("ip netns add vbC")
  local add, del = {}, {}
  for i = 1, PAIRS do
    add[i] = "link add va" .. i .. " type veth peer name vb" .. i
    del[i] = "link del va" .. i
  end
  local a, d = ipbatch(add), ipbatch(del)
  U.must("ip netns del vbC")
  return a, d
end

-- `netns add` moves the ip process itself into the new namespace, so the
-- namespaces are made by a batch of their own, outside vbC
local function ip_bridge()
  U.must("ip netns add vbC")
  local ns_add, ns_del, add, del = {}, {}, { "link add br0 type bridge" }, {}
  for i = 1, NSES do
    ns_add[i] = "netns add vbn" .. i
    ns_del[i] = "netns del vbn" .. i
    add[#add + 1] = "link add h" .. i .. " type veth peer name c" .. i .. " netns vbn" .. i
    add[#add + 1] = "link set h" .. i .. " master br0 up"
    del[#del + 1] = "link del h" .. i
  end
  del[#del + 1] = "link del br0"
  local a = ipbatch(ns_add, "") + ipbatch(add)
  local d = ipbatch(del) + ipbatch(ns_del, "")
  U.must("ip netns del vbC")
  return a, d
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

local tasks = {
  { key = "veth", name = PAIRS .. " veth pairs", vnet = vnet_veths, ip = ip_veths,
    py = function() return pyroute("veth", PAIRS) end },
  { key = "session", name = PAIRS .. " veth pairs, made then left at the session's end",
    vnet = vnet_session_end, ip = "veth", py = "veth" },
  { key = "bridge", name = NSES .. " namespaces, each with a veth into a bridge", vnet = vnet_bridge,
    ip = ip_bridge, py = function() return pyroute("bridge", NSES) end },
}

function M.run(opt)
  local res = {}
  for _, t in ipairs(tasks) do
    res[t.key] = {}
    for _, who in ipairs { "vnet", "ip", "py" } do
      local c, d = {}, {}
      if type(t[who]) == "string" then -- the same work as that task's: its figures
        res[t.key][who] = res[t[who]][who]
        goto next
      end
      for rep = 1, opt.reps do
        io.stderr:write(string.format("control %d/%d: %s, %s ... ", rep, opt.reps, t.name, who))
        local ok, a, b = pcall(t[who])
        if ok and a then
          c[#c + 1], d[#d + 1] = a, b
          io.stderr:write(string.format("create %.3f s, delete %.3f s\n", a, b))
        else
          io.stderr:write("failed: ", tostring(a), "\n")
          U.sh("ip netns del vbC")
          break
        end
      end
      res[t.key][who] = { create = U.median(c), delete = U.median(d), spread = U.spread(c) }
      ::next::
    end
  end
  local L = { "## Control plane", "",
    "Wall-clock seconds (median of " .. opt.reps .. " runs), each run in a fresh namespace.",
    "Ratios are speed relative to vnet: above 1x means vnet is faster.", "",
    "| task | tool | create s | delete s | total s | vnet speed vs this | noise |",
    "|---|---|---|---|---|---|---|" }
  for _, t in ipairs(tasks) do
    local v = res[t.key].vnet
    local vt = v.create and v.create + v.delete
    for _, who in ipairs { "vnet", "ip", "py" } do
      local r = res[t.key][who]
      local label = ({ vnet = "vnet", ip = "ip -batch", py = "pyroute2" })[who]
      if r.create then
        local tot = r.create + r.delete
        L[#L + 1] = string.format("| %s | %s | %.3f | %.3f | %.3f | %s | %.0f%% |", t.name, label, r.create,
          r.delete, tot, vt and string.format("%.2fx", tot / vt) or "n/a", r.spread)
      else
        L[#L + 1] = string.format("| %s | %s | failed | | | | |", t.name, label)
      end
    end
  end
  res.markdown = table.concat(L, "\n")
  return res
end

return M
