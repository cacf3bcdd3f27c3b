--- vnet.bridge: an Ethernet bridge: links made its ports forward frames
-- between each other by MAC address, as a switch does.
--
--    local br = assert(vnet.bridge.create{ name = "br0", up = true,
--                                           ports = { "veth0", "veth2" } })
--    assert(br:add_port("veth4", { hairpin = true }))
--    for _, p in ipairs(br:ports()) do print(p.name, p.port.state) end
--    assert(br:set{ stp = true, vlan_filtering = true })
--    assert(vnet.bridge.port("veth0", { learning = false }))
--
-- Bridge options (create, and l:set{} later; read back as l.stp, ...):
--    stp              spanning tree on/off
--    vlan_filtering   filter by VLAN; vlan_protocol "802.1Q"|"802.1ad";
--                     vlan_default_pvid
--    forward_delay, hello_time, max_age, ageing_time   in centiseconds
--    priority, group_fwd_mask, mcast_snooping, vlan_stats
-- create also takes ports = {link, ...}: made ports once the bridge
-- exists (if one fails, the bridge is deleted again and the error
-- returned).
-- Port options (bridge.port(l, {...}), br:add_port(l, {...}); read back
-- as l.port.hairpin, ...): state ("disabled", "listening", "learning",
-- "forwarding", "blocking"), priority, cost, hairpin (send frames back out
-- the port they came in by: what VEPA needs of a switch), guard,
-- root_block, fast_leave, learning, flood, proxy_arp, mcast_flood,
-- bcast_flood, neigh_suppress, isolated.
local kinds = require "vnet._kinds"
local opts = require "vnet._opts"

local M = {}

local port_options = {
  state = { attr = 1, fmt = "u8", change = true,
    enum = { disabled = 0, listening = 1, learning = 2, forwarding = 3, blocking = 4 } },
  priority = { attr = 2, fmt = "u16", change = true },
  cost = { attr = 3, fmt = "u32", change = true },
  hairpin = { attr = 4, fmt = "bool", change = true },
  guard = { attr = 5, fmt = "bool", change = true },
  root_block = { attr = 6, fmt = "bool", change = true },
  fast_leave = { attr = 7, fmt = "bool", change = true },
  learning = { attr = 8, fmt = "bool", change = true },
  flood = { attr = 9, fmt = "bool", change = true },
  proxy_arp = { attr = 10, fmt = "bool", change = true },
  mcast_flood = { attr = 27, fmt = "bool", change = true },
  bcast_flood = { attr = 30, fmt = "bool", change = true },
  neigh_suppress = { attr = 32, fmt = "bool", change = true },
  isolated = { attr = 33, fmt = "bool", change = true },
}
M.port_options = port_options
local port_desc = { kind = "bridge port", options = port_options }

local function link() return require "vnet.link" end

local function port_set(op, l, o)
  o = opts.check(op, o, kinds.spec(port_desc, {}, true))
  local L = link()
  local function body()
    local idx, name, eno = L._resolve(op, l)
    if not idx then return nil, name, eno end
    local items = kinds.encode({ op = op, name = name }, port_desc, o, true)
    if not items then return true end
    return require("vnet.link.core").set(idx, { slave_kind = "bridge", slave_data = items }, op, name)
  end
  local ok, err, eno
  if L.is(l) then ok, err, eno = L._within(l, op, body) else ok, err, eno = body() end
  if ok and L.is(l) then l:refresh() end
  return ok, err, eno
end

--- bridge.port(l, {hairpin =, learning =, cost =, ...}) -> true | nil, msg, errno
-- Set the bridge-port options of l (a port of a bridge).
function M.port(l, o)
  return port_set("bridge.port", l, o)
end

local methods = {}

--- br:add_port(l [, port options]) -> true | nil, msg, errno
function methods.add_port(br, l, o)
  local op = "bridge.add_port"
  if o ~= nil then opts.check(op, o, kinds.spec(port_desc, {}, true)) end
  local L = link()
  local ok, err, eno
  if L.is(l) then ok, err, eno = l:set { master = br.ifindex }
  else ok, err, eno = L.set(l, { master = br.ifindex }) end
  if not ok then return nil, (err:gsub("^link.set", op)), eno end
  if o ~= nil and next(o) then return port_set(op, l, o) end
  return true
end

--- br:remove_port(l) -> true | nil, msg, errno
function methods.remove_port(br, l)
  local L = link()
  local ok, err, eno
  if L.is(l) then ok, err, eno = l:set { nomaster = true }
  else ok, err, eno = L.set(l, { nomaster = true }) end
  if not ok then return nil, (err:gsub("^link.set", "bridge.remove_port")), eno end
  return true
end

--- br:ports() -> { link, ... } (the links whose master is br) | nil, msg, errno
function methods.ports(br)
  local L = link()
  return L._within(br, "bridge.ports", function()
    local all, err, eno = L.list()
    if not all then return nil, err, eno end
    local out = {}
    for _, l in ipairs(all) do
      if l.master == br.ifindex then out[#out + 1] = l end
    end
    return out
  end)
end

local K = kinds.define {
  lane = { modules = { "bridge" }, probe = "type bridge" },
  kind = "bridge",
  options = {
    forward_delay = { attr = 1, fmt = "u32", change = true },
    hello_time = { attr = 2, fmt = "u32", change = true },
    max_age = { attr = 3, fmt = "u32", change = true },
    ageing_time = { attr = 4, fmt = "u32", change = true },
    stp = { attr = 5, fmt = "bool32", change = true },
    priority = { attr = 6, fmt = "u16", change = true },
    vlan_filtering = { attr = 7, fmt = "bool", change = true,
      feature = "this kernel's bridge has no VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)" },
    vlan_protocol = { attr = 8, fmt = "be16", change = true,
      feature = "this kernel's bridge has no VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)",
      enum = { ["802.1Q"] = 0x8100, ["802.1ad"] = 0x88a8 } },
    group_fwd_mask = { attr = 9, fmt = "u16", change = true },
    mcast_snooping = { attr = 23, fmt = "bool", change = true },
    vlan_default_pvid = { attr = 39, fmt = "u16", change = true },
    vlan_stats = { attr = 41, fmt = "bool", change = true },
    ports = { virtual = true, type = "table" },
  },
  port_options = port_options,
  methods = methods,
  after = function(br, o)
    for _, p in ipairs(o.ports or {}) do
      local ok, err, eno = methods.add_port(br, p)
      if not ok then return nil, (err:gsub("^bridge.add_port", "bridge.create " .. br.name .. ": port")), eno end
    end
    return true
  end,
}
M.kind, M.descriptor, M.create, M.create_many = K.kind, K.descriptor, K.create, K.create_many

--- bridge.create{name =, stp =, vlan_filtering =, ports = {...}, ...}
-- -> link | nil, msg, errno
return M
