--- vnet._topoexec: making a topology's changes (vnet._topolive's diff)
-- in the kernel, in order; finding first what the kernel lacks; waiting
-- until new links carry traffic.
local netns = require "vnet.netns"
local link = require "vnet.link"
local tc = require "vnet.tc"
local live = require "vnet._topolive"

local M = {}

-- ---- what the kernel lacks, found before anything is built -------------

local probed = {} -- kind -> true | { msg, errno }: the running kernel's, for this process

function M.probe(D)
  local need, order = {}, {}
  local function want(key, where)
    if not need[key] then need[key] = where; order[#order + 1] = key end
  end
  for _, nn in ipairs(D.order) do
    for _, ifn in ipairs(D.nodes[nn].iforder) do
      local I = D.nodes[nn].ifaces[ifn]
      want("link:" .. I.kind, I.create.remote and (I.at:gsub("%.[ab]$", "") .. ".kind") or I.at)
      if I.vlan_filtering then want("brvlan:", I.at .. ".vlan_filtering") end
      if I.tc then want("qdisc:" .. I.tc.kind, I.at .. ".tc." .. I.tc.kind) end
    end
  end
  local todo = {}
  for _, key in ipairs(order) do if probed[key] == nil then todo[#todo + 1] = key end end
  if #todo > 0 then
    local ns <close> = assert(netns.create())
    ns:run(function()
      local core = require "vnet.link.core"
      assert(require("vnet.veth").create("vnetprobe0", "vnetprobe1"))
      for _, key in ipairs(todo) do
        local what, kind = key:match("^(%a+):(.*)$")
        local ok, err, eno
        if what == "brvlan" then
          ok, err, eno = core.create({ name = "vnetprobe2", kind = "bridge",
            data = { { 7, "u8", 1 } } }, "probe", "bridge") -- IFLA_BR_VLAN_FILTERING
          if ok then core.delete(assert(core.index("vnetprobe2")), "probe", "bridge") end
          ok = ok or eno ~= 95
          err = ok or { "this kernel's bridge has no VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)", eno }
        elseif what == "link" then
          ok, err, eno = core.create({ name = "vnetprobe2", kind = kind }, "probe", kind)
          if ok then core.delete(assert(core.index("vnetprobe2")), "probe", kind) end
          ok = ok or not (eno == 95 and err:find("Unknown device type", 1, true))
          err = ok or { string.format("this kernel has no '%s' support (Unknown device type)", kind), eno }
        else
          local o = (kind == "tbf" or kind == "htb") and { rate = 1000000 } or {}
          ok, err, eno = tc[kind]("vnetprobe0", o)
          ok = ok or not (err or ""):find("unknown", 1, true)
          err = ok or { string.format("this kernel has no '%s' qdisc (sch_%s: %s)", kind, kind,
            (err or ""):match("%((.*)%)$") or err), eno }
        end
        probed[key] = err
      end
    end)
  end
  for _, key in ipairs(order) do
    if probed[key] ~= true then
      return nil, string.format("topo.apply %s: %s: %s", D.name, need[key], probed[key][1]), probed[key][2]
    end
  end
  return true
end

-- ---- making the changes ----------------------------------------------------

local PHASE = { ["-node"] = 1, ["+node"] = 2, ["~sysctl"] = 3, ["-link"] = 4, ["+link"] = 5,
  ["~link"] = 6, ["~vlan"] = 7, ["-addr"] = 8, ["+addr"] = 9, ["-route"] = 10, ["+route"] = 11, ["~route"] = 11,
  ["-tc"] = 12, ["+tc"] = 12, ["~tc"] = 12, ["-redirect"] = 13, ["+redirect"] = 13 }
local LINK_ORDER = { bridge = 0, veth = 1, vxlan = 1, geneve = 1, gre = 1, gretap = 1, ifb = 1 }

local function sorted(changes)
  local list = {}
  for i, c in ipairs(changes) do
    local sub = c.what == "link" and c.op == "+" and (LINK_ORDER[c.iface.kind] or 2) or 0
    list[i] = { c = c, k = PHASE[c.op .. c.what] * 10 + sub, i = i }
  end
  table.sort(list, function(x, y) if x.k ~= y.k then return x.k < y.k end return x.i < y.i end)
  for i, e in ipairs(list) do list[i] = e.c end
  return list
end

local ENODEV, ESRCH, ENOENT, EINVAL = 19, 3, 2, 22

-- A run of new veths, made in as few batches (veth.create_many) as the
-- nodes allow: each pair is made from the namespace of whichever of its two
-- nodes more pairs of the run share (a star's switch: one batch for all),
-- the other end straight in its node, up (and in its bridge) after.
-- Returns the change that failed with the error, or nil.
local function make_veths(D, nss, run)
  local uses, ends = {}, {}
  for i, c in ipairs(run) do
    local I = c.iface
    local A = { node = c.node, iface = I }
    local B = { node = I.peer.node, iface = D.nodes[I.peer.node].ifaces[I.peer.name] }
    ends[i] = { A, B }
    uses[A.node] = (uses[A.node] or 0) + 1
    uses[B.node] = (uses[B.node] or 0) + 1
  end
  local groups, order = {}, {}
  for i, e in ipairs(ends) do
    if uses[e[2].node] > uses[e[1].node] then e[1], e[2] = e[2], e[1] end
    local g = groups[e[1].node]
    if not g then g = {}; groups[e[1].node] = g; order[#order + 1] = e[1].node end
    g[#g + 1] = i
  end
  for _, node in ipairs(order) do
    local list = {}
    for j, i in ipairs(groups[node]) do
      local X, Y = ends[i][1], ends[i][2]
      list[j] = { name = X.iface.name, peer = Y.iface.name, peer_netns = nss[Y.node],
        mtu = X.iface.mtu, address = X.iface.mac, peer_mtu = Y.iface.mtu,
        peer_address = Y.iface.mac, up = true, master = X.iface.master }
    end
    local ok, err, eno, k = nss[node]:run(require("vnet.veth").create_many, list)
    if not ok then return run[groups[node][k or 1]], err, eno end
    for _, i in ipairs(groups[node]) do
      local Y = ends[i][2]
      ok, err, eno = nss[Y.node]:run(link.set, Y.iface.name, { up = true, master = Y.iface.master })
      if not ok then return run[i], err, eno end
    end
  end
end

local function make_link(D, nss, c)
  local I = c.iface
  local ns = nss[c.node]
  if I.kind == "veth" then
    local P = D.nodes[I.peer.node].ifaces[I.peer.name]
    local pns = nss[I.peer.node]
    local ok, err, eno = ns:run(require("vnet.veth").create, { name = I.name, peer = P.name,
      peer_netns = pns, mtu = I.mtu, address = I.mac, peer_mtu = P.mtu, peer_address = P.mac, up = true })
    if not ok then return nil, err, eno end
    ok, err, eno = pns:run(link.set, P.name, { up = true, master = P.master })
    if not ok then return nil, err, eno end
    if I.master then return ns:run(link.set, I.name, { master = I.master }) end
    return true
  end
  local o = { kind = I.kind, name = I.name, mtu = I.mtu, address = I.mac, up = true }
  for k, v in pairs(I.create) do o[k] = v end
  local ok, err, eno = ns:run(link.create, o)
  if not ok then return nil, err, eno end
  if I.master then return ns:run(link.set, I.name, { master = I.master }) end
  return true
end

local function set_tc(name, t)
  if t.kind == "netem" then return tc.netem(name, t.options) end
  if t.kind == "tbf" then return tc.tbf(name, t.options) end
  tc.remove(name) -- htb keeps its own root only
  return tc.htb(name, t.options)
end

-- ifn's ingress to the ifb `to` (nil: nowhere), dropping what was there
local function redirect(ifn, to)
  local ok, err, eno = tc.remove(ifn, "ingress")
  if not ok and eno ~= ENOENT and eno ~= EINVAL then return nil, err, eno end
  if not to then return true end
  return tc.redirect(ifn, to)
end

local function is_veth(c) return c and c.op == "+" and c.what == "link" and c.iface.kind == "veth" end

function M.execute(D, changes, nss)
  local list, i = sorted(changes), 1
  while list[i] do
    local c = list[i]
    local ns = nss[c.node]
    local ok, err, eno
    local kind = c.op .. c.what
    if is_veth(c) then -- a run of new veths: in batches
      local batch = { c }
      while is_veth(list[i + 1]) do
        i = i + 1
        batch[#batch + 1] = list[i]
      end
      local bad
      bad, err, eno = make_veths(D, nss, batch)
      ok = not bad
      c = bad or c
    elseif kind == "-node" then
      ok, err, eno = ns:delete()
      nss[c.node] = nil
    elseif kind == "+node" then
      ns, err, eno = netns.create(D.nodes[c.node].ns)
      ok = ns and ns:run(link.set, "lo", { up = true })
      nss[c.node] = ns
    elseif kind == "~sysctl" then
      ok, err, eno = ns:run(live.sysctl_write, c.name, c.to)
    elseif kind == "-link" then
      ok, err, eno = ns:run(link.delete, c.name)
      if not ok and eno == ENODEV then ok = true end -- a veth whose peer went first
    elseif kind == "+link" then
      ok, err, eno = make_link(D, nss, c)
    elseif kind == "~link" then -- through the object: a bridge's vlan_filtering is its kind's option
      ok, err, eno = ns:run(function()
        local l, e, n = link.get(c.name)
        if not l then return nil, e, n end
        return l:set(c.set)
      end)
    elseif kind == "~vlan" then -- the port's VLANs, exactly
      ok, err, eno = ns:run(require("vnet.bridge").set_vlans, c.name, c.to)
    elseif c.what == "addr" then
      ok, err, eno = ns:run(require("vnet.addr")[c.op == "+" and "add" or "del"], c.name, c.to)
    elseif c.what == "route" then
      local r = c.to or c.from
      local o = { dst = c.name:gsub("^default6$", "default"), via = r.via, dev = r.dev, metric = r.metric,
        family = c.name == "default6" and "inet6" or nil }
      local route = require "vnet.route"
      -- replace, not add: a route the diff saw may be gone with an address
      ok, err, eno = ns:run(c.op == "-" and route.del or route.replace, o)
      if not ok and c.op == "-" and eno == ESRCH then ok = true end
    elseif c.what == "redirect" then
      ok, err, eno = ns:run(redirect, c.name, c.op == "+" and c.to)
    elseif c.what == "tc" then
      if c.op == "-" then ok, err, eno = ns:run(tc.clear, c.name)
      else ok, err, eno = ns:run(set_tc, c.name, c.to) end
    end
    if not ok then
      return nil, string.format("topo.apply %s: %s: %s", D.name, c.text:sub(3), err or "failed"), eno
    end
    i = i + 1
  end
  return true
end

-- Wait (up to 3 s) until the links made can carry traffic: the kernel
-- gives a device a real qdisc only when its link-watch work sees the
-- carrier, up to a second after it came up; until then it has "noop",
-- which drops every packet sent.
function M.settle(D, nss, changes)
  local touched = {}
  for _, c in ipairs(changes) do if c.what == "link" and c.op == "+" then touched[c.node] = true end end
  local core, now = require "vnet.ping.core", require("vnet.loop").now
  local deadline = now() + 3
  for _, nn in ipairs(D.order) do
    local N = D.nodes[nn]
    local function waiting()
      for _, q in ipairs(tc.list() or {}) do
        local I = N.ifaces[q.dev]
        if q.kind == "noop" and I and I.kind ~= "bridge" then return true end
      end
      return false
    end
    while touched[nn] and nss[nn] and nss[nn]:run(waiting) and now() < deadline do core.nap(0.02) end
  end
end

return M
