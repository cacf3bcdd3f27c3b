--- vnet.link: links and their addresses, through rtnetlink (libnl-route).
--
-- A link is named by its name ("tun0"), its ifindex (7), or any object with
-- `name`/`ifindex` fields (a vnet.tun device). System failures return
-- `nil, "op name: reason (kernel's words)", errno`.
--
--    link.set("tun0", {up = true, mtu = 1400})
--    link.addr_add("tun0", "10.0.0.1/24")
--    link.addr_add("tun0", "10.9.0.1", {peer = "10.9.0.2"})
--    for _, a in ipairs(link.addrs("tun0")) do print(a.cidr) end
local core = require "vnet.link.core"
local opts = require "vnet._opts"

local M = {}

-- ifindex and a display name for a link argument, or nil, msg, errno
local function resolve(op, l)
  local t = type(l)
  if math.type(l) == "integer" then
    local name = core.name(l, op)
    return l, name or ("#" .. l)
  elseif t == "string" then
    local idx, err, eno = core.index(l, op)
    if not idx then return nil, err, eno end
    return idx, l
  elseif (t == "table" or t == "userdata") and l.ifindex then
    return l.ifindex, l.name or ("#" .. l.ifindex)
  end
  error(string.format("%s: expected a link name, ifindex or link object (got %s)",
    op, t), 3)
end
M._resolve = resolve

--- link.index(name) -> ifindex | nil, msg, errno
function M.index(name)
  return core.index(name, "link.index")
end

--- link.set(l, {up = bool, mtu = n}) -> true | nil, msg, errno
function M.set(l, o)
  o = opts.check("link.set", o, { up = "boolean", mtu = "integer" })
  local idx, name, eno = resolve("link.set", l)
  if not idx then return nil, name, eno end
  if o.mtu and (o.mtu < 68 and o.mtu ~= 0 or o.mtu > 0xffffff) then
    error(string.format("link.set %s: mtu %d out of range", name, o.mtu), 2)
  end
  return core.change(idx, o.up, o.mtu, "link.set", name)
end

--- link.mtu(l) -> current MTU | nil, msg, errno
function M.mtu(l)
  local idx, name, eno = resolve("link.mtu", l)
  if not idx then return nil, name, eno end
  return core.mtu(name, "link.mtu")
end

local addr_spec = { peer = "string" }

--- link.addr_add(l, "a.b.c.d/len" | "v6/len", {peer = "x"}) -> true | nil, msg, errno
-- An address without /len is a host address (/32 or /128), as with `ip addr add`.
function M.addr_add(l, cidr, o)
  o = opts.check("link.addr_add", o, addr_spec)
  local idx, name, eno = resolve("link.addr_add", l)
  if not idx then return nil, name, eno end
  if type(cidr) ~= "string" then
    error("link.addr_add " .. name .. ": address must be a string", 2)
  end
  return core.addr("add", idx, cidr, o.peer, "link.addr_add", name)
end

--- link.addr_del(l, cidr, {peer = "x"}) -> true | nil, msg, errno
function M.addr_del(l, cidr, o)
  o = opts.check("link.addr_del", o, addr_spec)
  local idx, name, eno = resolve("link.addr_del", l)
  if not idx then return nil, name, eno end
  if type(cidr) ~= "string" then
    error("link.addr_del " .. name .. ": address must be a string", 2)
  end
  return core.addr("del", idx, cidr, o.peer, "link.addr_del", name)
end

--- link.addrs([l]) -> { {family, address, prefixlen, cidr, peer, broadcast,
-- scope, label, ifindex}, ... } for one link, or all when l is nil.
function M.addrs(l)
  if l == nil then return core.addrs(0, "link.addrs", "") end
  local idx, name, eno = resolve("link.addrs", l)
  if not idx then return nil, name, eno end
  return core.addrs(idx, "link.addrs", name)
end

return M
