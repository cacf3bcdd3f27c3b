--- vnet._linkobj: vnet.link's link objects: their metatable, filling
-- one from what the kernel reports, naming a link argument, and the
-- methods (l:set is vnet._linkset's; the namespace part is vnet._linkns).
local core = require "vnet.link.core"
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
local E = require("vnet.nl.core").errno
local kinds = require "vnet._kinds"
local lns = require "vnet._linkns"
local here, within = lns.here, lns.within

local M = {}
local methods = {}
local Link = { __name = "vnet.link", methods = methods }
M.methods, M.Link = methods, Link

local function netns() return require "vnet.netns" end
local function session() return require "vnet.session" end

Link.__index = function(l, k)
  local m = methods[k]
  if m ~= nil then return m end
  local d = rawget(l, "kind") and kinds.get(rawget(l, "kind"))
  if d and d.methods and d.methods[k] then return d.methods[k] end
  local info = rawget(l, "info")
  if info then return info[k] end
end

-- one `ip -br link` line: name@parent, operstate, MAC, <flags> (vnet.show)
Link.__tostring = function(l) return require("vnet.show").link_text(l) end

Link.__eq = function(a, b)
  return a.ifindex == b.ifindex and rawget(a, "_nsino") == rawget(b, "_nsino")
end

--- link.is(v) -> true when v is a link object
function M.is(v) return getmetatable(v) == Link end

-- Fill a link object from a table of core.get/list, decoding kind data.
local function fill(l, t, ns, nsino)
  for k in pairs(l) do l[k] = nil end
  for k, v in pairs(t) do l[k] = v end
  local d = t.kind and kinds.get(t.kind)
  l.info = kinds.decode(d and d.options, t.info_data, d and d.decode_extra)
  if t.slave_kind then
    local md = kinds.get(t.slave_kind)
    l.port = kinds.decode(md and md.port_options, t.slave_data)
  end
  l.info_data, l.slave_data = nil, nil
  l._stats, l.stats = t.stats, nil -- l:stats() is the method
  l.netns = ns
  l._nsino = nsino
  return l
end

local function wrap(t, ns, nsino)
  if ns == nil and nsino == nil then ns, nsino = here() end
  return fill(setmetatable({}, Link), t, ns, nsino)
end
M._wrap = wrap

-- ifindex and a display name for a link argument, or nil, msg, errno.
-- Link objects from elsewhere must be used through within().
local function resolve(op, l)
  local t = type(l)
  if math.type(l) == "integer" then
    local name = core.name(l, op)
    return l, name or ("#" .. l)
  elseif t == "string" then
    local idx, err, eno = core.index(l, op)
    if not idx then return nil, err, eno end
    return idx, l
  elseif (t == "table" or t == "userdata") and math.type(l.ifindex) == "integer" then
    return l.ifindex, l.name or ("#" .. l.ifindex)
  end
  raise(string.format("%s: expected a link name, ifindex or link object (got %s)",
    op, t))
end
M._resolve = resolve

--- l:set{...} -> true | nil, msg, errno: as link.set, plus the options of
-- the link's kind that can change (a macvlan's mode, a bridge's stp...).
-- The object is read back afterwards (also after a move to another netns).
function methods.set(l, o)
  return require("vnet._linkset").set("link.set", l, o)
end

--- l:refresh() -> l | nil, msg, errno: read the link again
function methods.refresh(l)
  local t, err, eno = within(l, "link.refresh", core.get, l.ifindex, "link.refresh", l.name)
  if not t then return nil, err, eno end
  return fill(l, t, rawget(l, "netns"), rawget(l, "_nsino"))
end

--- l:stats() -> {rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors,
-- tx_errors, rx_dropped, tx_dropped, multicast, collisions} | nil, msg, errno
function methods.stats(l)
  local ok, err, eno = methods.refresh(l)
  if not ok then return nil, err, eno end
  return l._stats
end

--- l:delete() -> true | nil, msg, errno (a veth takes its peer with it)
function methods.delete(l)
  local ok, err, eno = within(l, "link.delete", core.delete, l.ifindex, "link.delete", l.name)
  if ok then session().forget(l) end
  return ok, err, eno
end

--- l:close() -> true | nil, msg, errno: undo it now. A link this session
-- made is deleted; one it did not make gets back what the session changed
-- on it. Also the `<close>` of `local l <close> = veth.create(...)`.
function methods.close(l) return session().close(l) end
Link.__close = function(l) session().close(l) end

--- l:keep() -> true: let go of a link the session made (and of what the
-- session did on it): it stays when the session ends.
function methods.keep(l) return session().release(l) end

--- l:peer() -> link | nil, msg, errno: the other end of a veth (or the
-- parent of a macvlan, vlan...), found from IFLA_LINK, in whatever
-- namespace it is (IFLA_LINK_NETNSID). The result's `netns` is set when
-- that namespace could be found (named, held by vnet, or of a process).
function methods.peer(l)
  local op = "link.peer"
  local pidx = rawget(l, "parent")
  if not pidx or pidx == 0 then
    return nil, string.format("%s %s: No such device (the link has no peer or parent)", op, l.name), E.ENODEV
  end
  local nsid = rawget(l, "netns_id")
  if nsid == nil then
    local t, err, eno = within(l, op, core.get, pidx, op, l.name)
    if not t then return nil, err, eno end
    return wrap(t, rawget(l, "netns"), rawget(l, "_nsino"))
  end
  return within(l, op, function()
    local t, err, eno = core.get(pidx, op, l.name, nsid)
    if not t then return nil, err, eno end
    local ns = netns()._find_by_nsid(nsid)
    return wrap(t, ns, ns and ns:id() or false)
  end)
end

--- l:addrs(), l:addr_add(cidr [, o]), l:addr_del(cidr [, o]): see vnet.addr
function methods.addrs(l, o) return within(l, "addr.list", require("vnet.addr").list, l, o) end
function methods.addr_add(l, c, o) return within(l, "addr.add", require("vnet.addr").add, l, c, o) end
function methods.addr_del(l, c, o) return within(l, "addr.del", require("vnet.addr").del, l, c, o) end

-- A method called on anything but a link object (l.set(x) instead of
-- l:set(x)) raises naming the method, rather than failing inside it.
for name, fn in pairs(methods) do
  methods[name] = function(l, ...)
    if getmetatable(l) ~= Link then
      raise(string.format("link:%s: expected a link object (call it as l:%s(...); got %s)",
        name, name, type(l)))
    end
    return fn(l, ...)
  end
end

M.fill, M.wrap, M.resolve = fill, wrap, resolve
return M
