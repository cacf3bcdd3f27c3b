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
--
-- Port VLANs (what `bridge vlan add/del/show` does; they filter once the
-- bridge has vlan_filtering = true). On a port, or on the bridge itself
-- (its own interface's VLANs, the kernel's "self"):
--    assert(vnet.bridge.vlan_add("veth0", { vid = 10, pvid = true, untagged = true }))
--    assert(vnet.bridge.vlan_del("veth0", 1))
--    for _, v in ipairs(assert(vnet.bridge.vlans("veth0"))) do print(v.vid, v.pvid, v.untagged) end
--    assert(vnet.bridge.set_vlans("veth2", { { vid = 10 }, { vid = 20, pvid = true } }))
-- pvid: untagged frames arriving on the port go to this VLAN (one per
-- port); untagged: frames of this VLAN leave the port without a tag.
-- What these add or change is undone when the session ends.
local kinds = require "vnet._kinds"
local opts = require "vnet._opts"
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line

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
--- The options of a bridge port (bridge.port, br:add_port; l.port.x).
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
    require("vnet.session").changing_port(L.is(l) and l or nil, idx, name, o, port_desc)
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

-- ---- port VLANs ----------------------------------------------------------

local vlan_spec = { vid = "integer", pvid = "boolean", untagged = "boolean" }
local EOPNOTSUPP = 95
local NOFILTER = "this kernel's bridge has no VLAN filtering: CONFIG_BRIDGE_VLAN_FILTERING"

local function vid_check(op, v, what)
  if math.type(v) ~= "integer" then
    raise(string.format("%s: %s must be an integer (got %s)", op, what, math.type(v) or type(v)))
  end
  if v < 1 or v > 4094 then raise(string.format("%s: %s %d is out of range 1..4094", op, what, v)) end
  return v
end

local function vlan_check(op, v, what)
  if type(v) ~= "table" then raise(string.format("%s: %s must be a table like { vid = 10 } (got %s)", op, what, type(v))) end
  opts.check(op, v, vlan_spec)
  if v.vid == nil then raise(string.format("%s: %s needs a vid (1..4094)", op, what)) end
  vid_check(op, v.vid, "vid")
  return { vid = v.vid, pvid = v.pvid == true, untagged = v.untagged == true }
end

-- the port's VLANs as { [vid] = {vid, pvid, untagged} }, in the namespace we are in
local function read_vlans(op, idx, name)
  local all, err, eno = require("vnet.link.core").vlan_list(op, name)
  if not all then return nil, err, eno end
  for _, p in ipairs(all) do
    if p.ifindex == idx then
      local out = {}
      for _, v in ipairs(p.vlans) do out[v.vid] = v end
      return out, p.master == p.ifindex
    end
  end
  return nil, string.format("%s %s: not a bridge or a bridge port", op, name), 22
end

-- add or delete VLANs of the port idx (self: the bridge itself); journals the undo
local function change(op, idx, name, self, cmd, list, before)
  local core = require "vnet.link.core"
  local ok, err, eno = core.vlan_change(idx, cmd, list, self, op, name)
  if not ok then
    if eno == EOPNOTSUPP and not err:find("(", 1, true) then err = err .. " (" .. NOFILTER .. ")" end
    return nil, err, eno
  end
  local session = require "vnet.session"
  local function own(vid, old) -- undo: old back as it was, or vid gone
    local back = old and { { vid = old.vid, pvid = old.pvid, untagged = old.untagged } }
    -- one undo record (vnet._undo): the host applies it, or the guardian after a SIGKILL
    local rtype, body = require("vnet._undo").vlan(vid, back and back[1], self)
    session.own("vlan", name .. " vid " .. vid, idx,
      back and string.format("bridge.vlan_add %s vid %d%s%s", name, old.vid, old.pvid and " pvid" or "",
        old.untagged and " untagged" or "") or string.format("bridge.vlan_del %s vid %d", name, vid),
      rtype, body)
  end
  for _, v in ipairs(list) do
    local old = before[v.vid]
    if cmd == "del" or not old or old.pvid ~= v.pvid or old.untagged ~= v.untagged then
      if cmd == "add" and v.pvid then -- the port's pvid moves: undone after v, it comes back
        for vid, o in pairs(before) do if o.pvid and vid ~= v.vid then own(vid, o) end end
      end
      own(v.vid, old)
    end
  end
  return true
end

-- run body(idx, name, self, before) where the link l is
local function at_port(op, l, body)
  local L = link()
  local function run()
    local idx, name, eno = L._resolve(op, l)
    if not idx then return nil, name, eno end
    local before, self, err = read_vlans(op, idx, name)
    if not before then return nil, self, err end
    return body(idx, name, self, before)
  end
  if L.is(l) then return L._within(l, op, run) end
  return run()
end

--- bridge.vlan_add(l, {vid =, pvid =, untagged =}) -> true | nil, msg, errno
-- Make l (a port, or the bridge itself) a member of VLAN vid (1..4094);
-- pvid: untagged frames in go to vid; untagged: vid's frames leave untagged.
function M.vlan_add(l, v)
  local op = "bridge.vlan_add"
  v = vlan_check(op, v, "the VLAN")
  return at_port(op, l, function(idx, name, self, before)
    return change(op, idx, name, self, "add", { v }, before)
  end)
end

--- bridge.vlan_del(l, vid) -> true | nil, msg, errno
function M.vlan_del(l, vid)
  local op = "bridge.vlan_del"
  vid_check(op, vid, "vid")
  return at_port(op, l, function(idx, name, self, before)
    return change(op, idx, name, self, "del", { { vid = vid } }, before)
  end)
end

local function sorted(byvid)
  local out = {}
  for _, v in pairs(byvid) do out[#out + 1] = { vid = v.vid, pvid = v.pvid, untagged = v.untagged } end
  table.sort(out, function(a, b) return a.vid < b.vid end)
  return out
end

--- bridge.vlans(l) -> { {vid =, pvid =, untagged =}, ... } (by vid) | nil, msg, errno
function M.vlans(l)
  local op = "bridge.vlans"
  return at_port(op, l, function(_, _, _, before) return sorted(before) end)
end

--- bridge.set_vlans(l, { {vid =, pvid =, untagged =}, ... }) -> changed | nil, msg, errno
-- Make l's VLANs exactly these: adds what is missing or differs, deletes
-- the others (the default VLAN 1 too, unless listed). changed: how many
-- VLANs were added, changed or deleted (0: it was so already).
function M.set_vlans(l, list)
  local op = "bridge.set_vlans"
  if type(list) ~= "table" then raise(string.format("%s: expected a list of VLANs (got %s)", op, type(list))) end
  local want, pvids = {}, 0
  for i, v in ipairs(list) do
    local c = vlan_check(op, v, "VLAN " .. i)
    if want[c.vid] then raise(string.format("%s: VLAN %d is listed twice", op, c.vid)) end
    if c.pvid then pvids = pvids + 1 end
    want[c.vid] = c
  end
  if pvids > 1 then raise(string.format("%s: a port has one pvid (%d listed)", op, pvids)) end
  return at_port(op, l, function(idx, name, self, before)
    local add, del = {}, {}
    for vid in pairs(before) do if not want[vid] then del[#del + 1] = { vid = vid } end end
    for vid, v in pairs(want) do
      local o = before[vid]
      if not o or o.pvid ~= v.pvid or o.untagged ~= v.untagged then add[#add + 1] = v end
    end
    table.sort(add, function(a, b) return a.pvid and not b.pvid end) -- the new pvid first
    if #del > 0 then
      local ok, err, eno = change(op, idx, name, self, "del", del, before)
      if not ok then return nil, err, eno end
    end
    if #add > 0 then
      local ok, err, eno = change(op, idx, name, self, "add", add, before)
      if not ok then return nil, err, eno end
    end
    return #add + #del
  end)
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

--- bridge.create{name =, stp =, vlan_filtering =, ports = {...}, ...}
-- -> link | nil, msg, errno
return kinds.define {
  lane = { modules = { "bridge" }, probe = "type bridge" },
  kind = "bridge",
  example = { priority = 7, ageing_time = 60000, mcast_snooping = false },
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
  module = M, -- port, port_options, the VLAN functions
}
