--- vnet._topolive: what a topology's namespaces hold now, and what would
-- change to make them hold the desired state (vnet._topocheck).
--
-- A topology named T lives in the named namespaces T-<node> (`ip netns`
-- sees them), so another process can read it, diff it and destroy it.
-- Only what a description can say is compared: links other than lo,
-- global addresses, routes not made by the kernel, the root qdisc when it
-- is netem, tbf or htb, the sysctls the description sets, a bridge's
-- vlan_filtering and the VLANs of the switch ports that list them.
local netns = require "vnet.netns"
local link = require "vnet.link"
local addr = require "vnet.addr"
local route = require "vnet.route"
local tc = require "vnet.tc"
local vlan = require "vnet._topovlan"

local M = {}

--- namespaces(name) -> { [node] = namespace name } of the live topology
function M.namespaces(name)
  local out = {}
  for _, n in ipairs(netns.list() or {}) do
    local node = n:match("^" .. name .. "%-([%a_][%w_]*)$")
    if node then out[node] = n end
  end
  return out
end

local function sysctl_path(key) return "/proc/sys/" .. key:gsub("%.", "/") end

function M.sysctl_read(key)
  local f = io.open(sysctl_path(key))
  if not f then return nil end
  local v = f:read("l")
  f:close()
  return v and (v:gsub("%s+", " "))
end

function M.sysctl_write(key, v)
  local f, err = io.open(sysctl_path(key), "w")
  if not f then return nil, "sysctl " .. key .. ": " .. err, 2 end
  local ok, werr, eno = f:write(v)
  local cok, cerr, ceno = f:close()
  if not ok then return nil, "sysctl " .. key .. ": " .. werr, eno end
  if not cok then return nil, "sysctl " .. key .. ": " .. cerr, ceno end
  return true
end

local TC_KINDS = { netem = true, tbf = true, htb = true }

--- read_node(ns, sysctl keys) -> the live state of one node
function M.read_node(ns, keys)
  return ns:run(function()
    local S = { links = {}, byindex = {}, addrs = {}, routes = {}, tc = {}, sysctl = {}, redirect = {},
      vlans = vlan.read() }
    for _, l in ipairs(assert(link.list())) do
      if l.name ~= "lo" then S.links[l.name], S.byindex[l.ifindex] = l, l end
    end
    for _, a in ipairs(assert(addr.list())) do
      local l = S.byindex[a.ifindex]
      if l and a.scope == "global" then
        S.addrs[l.name] = S.addrs[l.name] or {}
        S.addrs[l.name][a.cidr] = true
      end
    end
    for _, r in ipairs(assert(route.list())) do
      if r.protocol ~= "kernel" and r.protocol ~= "ra" and r.type == "unicast" then
        local key = r.dst == "default" and r.family == "inet6" and "default6" or r.dst
        local l = r.ifindex and S.byindex[r.ifindex]
        S.routes[key] = { via = r.via, dev = l and l.name, metric = r.metric, family = r.family }
      end
    end
    for _, q in ipairs(tc.list() or {}) do
      if q.root and TC_KINDS[q.kind] and S.links[q.dev] then
        if q.kind == "htb" then
          for _, c in ipairs(tc.classes(q.dev) or {}) do if c.classid == "1:1" then q.class = c end end
        end
        S.tc[q.dev] = q
      elseif q.kind == "ingress" and S.links[q.dev] then
        for _, f in ipairs(tc.filters(q.dev) or {}) do
          local to = f.action == "redirect" and S.byindex[f.to]
          if to then S.redirect[q.dev] = to.name end
        end
      end
    end
    for _, k in ipairs(keys) do S.sysctl[k] = M.sysctl_read(k) end
    return S
  end)
end

--- read(D) -> { [node] = state }, { [node] = ns object } for the live nodes
-- of topology D.name (also those D no longer has)
function M.read(D)
  local L, nss = {}, {}
  for node, nsname in pairs(M.namespaces(D.name)) do
    local ns = netns.open(nsname)
    if ns then
      nss[node] = ns
      local keys = {}
      for k in pairs(D.nodes[node] and D.nodes[node].sysctl or {}) do keys[#keys + 1] = k end
      L[node] = M.read_node(ns, keys)
    end
  end
  return L, nss
end

-- ---- comparing ------------------------------------------------------------

local NETEM_ZERO = { delay = 0, jitter = 0, loss = 0, duplicate = 0, reorder = 0, corrupt = 0,
  rate = 0, gap = 0, limit = 1000, delay_correlation = 0, loss_correlation = 0,
  duplicate_correlation = 0, reorder_correlation = 0, corrupt_correlation = 0 }

local function close(a, b)
  return a == b or (type(a) == "number" and type(b) == "number" and math.abs(a - b) <= math.max(1e-6, 0.01 * math.abs(a)))
end

--- tc_same(want {kind, options}, live root qdisc) -> true when equal
function M.tc_same(want, have)
  if not have or have.kind ~= want.kind then return false end
  local w = tc._normalize(want.kind, want.options)
  local src = have
  if want.kind == "htb" then
    src = have.class
    if not src then return false end
    w.ceil = w.ceil or w.rate
  elseif want.kind == "netem" then
    for k, v in pairs(NETEM_ZERO) do if w[k] == nil then w[k] = v end end
  end
  for k, v in pairs(w) do
    if k ~= "parent" and k ~= "handle" and k ~= "latency" and not close(v, src[k]) then return false end
  end
  return true
end

local function tc_text(t)
  if not t then return "none" end
  local keys, parts = {}, {}
  for k in pairs(t.options) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. " " .. tostring(t.options[k]) end
  return t.kind .. " " .. table.concat(parts, " ")
end

-- why a live link cannot become the desired one (nil when it can)
local function mismatch(L, I, l, S)
  if l.kind ~= I.kind then return "kind " .. tostring(l.kind) .. ", wanted " .. I.kind end
  local c, info = I.create, l.info or {}
  if I.kind == "veth" then
    local PS = L[I.peer.node]
    local p = PS and PS.links[I.peer.name]
    if not p or p.ifindex ~= l.parent or p.parent ~= l.ifindex then return "peer changed" end
  elseif I.kind == "vxlan" or I.kind == "geneve" then
    if info.id ~= c.id or (info.group or info.remote) ~= c.remote or info.dstport ~= c.dstport
      or (c["local"] and info["local"] ~= c["local"]) then return "tunnel changed" end
  elseif I.kind == "gre" or I.kind == "gretap" then
    if info.remote ~= c.remote or info["local"] ~= c["local"] or (c.key and info.ikey ~= c.key) then
      return "tunnel changed"
    end
  elseif I.kind == "vlan" then
    return vlan.mismatch(I, l, S)
  elseif c.link then -- an attachment
    local parent = S.byindex[l.parent or -1]
    if not parent or parent.name ~= c.link or info.mode ~= c.mode then return "parent or mode changed" end
  end
end

--- diff(D, L) -> { change, ... }: what makes live L into desired D, in the
-- order apply makes them. change = { op = "+"|"-"|"~", what = "node" |
-- "sysctl" | "link" | "addr" | "route" | "tc", node, name, from, to, text }
function M.diff(D, L)
  local out = {}
  local disturbed -- the node loses an address or a link: the kernel drops routes through them
  local function add(c)
    out[#out + 1] = c
    if c.op == "-" and (c.what == "addr" or c.what == "link") then disturbed = true end
  end
  local gone = {}
  for node in pairs(L) do if not D.nodes[node] then gone[#gone + 1] = node end end
  table.sort(gone)
  for _, node in ipairs(gone) do
    add { op = "-", what = "node", node = node, text = "- node " .. node }
  end
  local pairs_made = {}
  for _, nn in ipairs(D.order) do
    local N, S = D.nodes[nn], L[nn]
    disturbed = false
    if not S then
      add { op = "+", what = "node", node = nn, to = N.kind,
        text = string.format("+ node %s (%s, namespace %s)", nn, N.kind, N.ns) }
      S = { links = {}, byindex = {}, addrs = {}, routes = {}, tc = {}, sysctl = {}, redirect = {}, vlans = {} }
    end
    local keys = {}
    for k in pairs(N.sysctl) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do
      if S.sysctl[k] ~= N.sysctl[k] then
        add { op = "~", what = "sysctl", node = nn, name = k, from = S.sysctl[k], to = N.sysctl[k],
          text = string.format("~ sysctl %s %s %s -> %s", nn, k, tostring(S.sysctl[k] or "?"), N.sysctl[k]) }
      end
    end
    local live = {}
    for name, l in pairs(S.links) do live[#live + 1] = name end
    table.sort(live)
    for _, name in ipairs(live) do
      if not N.ifaces[name] then
        add { op = "-", what = "link", node = nn, name = name, text = string.format("- link %s:%s", nn, name) }
      end
    end
    for _, ifn in ipairs(N.iforder) do
      local I, l = N.ifaces[ifn], S.links[ifn]
      local why = l and mismatch(L, I, l, S)
      if why then
        add { op = "-", what = "link", node = nn, name = ifn, text = string.format("- link %s:%s (%s)", nn, ifn, why) }
        l = nil
      end
      if not l then
        local key = I.kind == "veth" and (nn .. ":" .. ifn .. "|" .. I.peer.node .. ":" .. I.peer.name)
        local rkey = I.kind == "veth" and (I.peer.node .. ":" .. I.peer.name .. "|" .. nn .. ":" .. ifn)
        if not (key and (pairs_made[key] or pairs_made[rkey])) then
          if key then pairs_made[key] = true end
          add { op = "+", what = "link", node = nn, name = ifn, iface = I,
            text = string.format("+ link %s:%s %s%s", nn, ifn, I.kind,
              I.peer and (" to " .. I.peer.node .. ":" .. I.peer.name) or
              I.create.remote and (" to " .. I.create.remote) or I.create.link and (" on " .. I.create.link) or "") }
        end
        S.addrs[ifn], S.tc[ifn], S.redirect[ifn], S.vlans[ifn] = nil, nil, nil, nil
      else
        local master = l.master and S.byindex[l.master] and S.byindex[l.master].name
        local set, parts = {}, {}
        if I.mtu and l.mtu ~= I.mtu then set.mtu = I.mtu; parts[#parts + 1] = "mtu " .. l.mtu .. " -> " .. I.mtu end
        if I.mac and l.address ~= I.mac then set.address = I.mac; parts[#parts + 1] = "mac " .. tostring(l.address) .. " -> " .. I.mac end
        if master ~= I.master then
          if I.master then set.master = I.master else set.nomaster = true end
          parts[#parts + 1] = "master " .. tostring(master) .. " -> " .. tostring(I.master)
        end
        if I.kind == "bridge" and ((l.info or {}).vlan_filtering or false) ~= I.vlan_filtering then
          set.vlan_filtering = I.vlan_filtering
          parts[#parts + 1] = "vlan_filtering " .. tostring(not I.vlan_filtering) .. " -> " .. tostring(I.vlan_filtering)
        end
        if not l.up then set.up = true; parts[#parts + 1] = "up" end
        if set.master then S.vlans[ifn] = nil end -- a new port starts with the bridge's default
        if next(set) then
          add { op = "~", what = "link", node = nn, name = ifn, set = set,
            text = string.format("~ link %s:%s %s", nn, ifn, table.concat(parts, ", ")) }
        end
      end
      local vc = I.vlans and vlan.change(nn, ifn, I.vlans, S.vlans[ifn])
      if vc then add(vc) end
      local have = S.addrs[ifn] or {}
      local want = {}
      for _, a in ipairs(I.addrs) do want[a] = true end
      local hl = {}
      for a in pairs(have) do hl[#hl + 1] = a end
      table.sort(hl)
      for _, a in ipairs(hl) do
        if not want[a] then add { op = "-", what = "addr", node = nn, name = ifn, to = a, text = string.format("- addr %s:%s %s", nn, ifn, a) } end
      end
      for _, a in ipairs(I.addrs) do
        if not have[a] then add { op = "+", what = "addr", node = nn, name = ifn, to = a, text = string.format("+ addr %s:%s %s", nn, ifn, a) } end
      end
      local q = S.tc[ifn]
      if I.tc and not M.tc_same(I.tc, q) then
        add { op = q and "~" or "+", what = "tc", node = nn, name = ifn, to = I.tc,
          text = string.format("%s tc %s:%s %s", q and "~" or "+", nn, ifn, tc_text(I.tc)) }
      elseif not I.tc and q then
        add { op = "-", what = "tc", node = nn, name = ifn, text = string.format("- tc %s:%s %s", nn, ifn, q.kind) }
      end
      local hr = S.redirect[ifn]
      local ifb = I.redirect and S.links[I.redirect]
      if I.redirect and (hr ~= I.redirect or not ifb or mismatch(L, N.ifaces[I.redirect], ifb, S)) then
        add { op = "+", what = "redirect", node = nn, name = ifn, to = I.redirect,
          text = string.format("+ redirect %s:%s ingress -> %s", nn, ifn, I.redirect) }
      elseif not I.redirect and hr then
        add { op = "-", what = "redirect", node = nn, name = ifn, text = string.format("- redirect %s:%s ingress", nn, ifn) }
      end
    end
    local rl = {}
    for dst in pairs(S.routes) do rl[#rl + 1] = dst end
    for dst in pairs(N.routes) do if not S.routes[dst] then rl[#rl + 1] = dst end end
    table.sort(rl)
    for _, dst in ipairs(rl) do
      local w, h = N.routes[dst], S.routes[dst]
      local function rtext(r) return (r.via and ("via " .. r.via) or "") .. (r.dev and (" dev " .. r.dev) or "") end
      if not w then
        add { op = "-", what = "route", node = nn, name = dst, from = h, text = string.format("- route %s %s", nn, dst) }
      elseif disturbed or not h or h.via ~= w.via or (w.dev and h.dev ~= w.dev) or (w.metric and h.metric ~= w.metric) then
        add { op = h and "~" or "+", what = "route", node = nn, name = dst, to = w, from = h,
          text = string.format("%s route %s %s %s", h and "~" or "+", nn, dst, rtext(w)) }
      end
    end
  end
  return out
end

return M
