--- vnet.link: every link (network interface), through rtnetlink.
--
-- A link is named by its name ("tun0"), its ifindex (7), or any object with
-- `name`/`ifindex` fields (a link object, a vnet.tun device). System
-- failures return `nil, "op name: reason (kernel's words)", errno`; misuse
-- (wrong types, unknown option keys, bad values) raises.
--
--    for _, l in ipairs(assert(link.list())) do print(l.name, l.kind, l.up) end
--    local l = assert(link.get("veth0"))
--    assert(l:set{ up = true, mtu = 1400, master = "br0" })
--    local m = assert(link.create{ kind = "macvlan", name = "mv0",
--                                  link = "eth0", mode = "bridge" })
--    print(m.mode)                     --> bridge (read back from the kernel)
--    local w = link.watch(function(ev) print(ev.type, ev.action, ev.name) end)
--
-- A link object has the fields name, ifindex, kind, mtu, flags (a list:
-- "UP", "BROADCAST", ...), up, address, broadcast, operstate, master and
-- parent (ifindexes), netns_id (of the parent's namespace, when elsewhere),
-- txqueuelen, link_type, min_mtu, max_mtu, carrier, promiscuity, and the
-- kind's own options (`l.mode` of a macvlan, `l.id` of a vlan) in `l.info`,
-- readable straight off the object; a bridge port's options are in
-- `l.port`. A link object remembers its network namespace: using it from
-- another one works when the namespace is known (`l.netns`), else raises.
local core = require "vnet.link.core"
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
local E = require("vnet.nl.core").errno
local nl = require "vnet.nl.core"
local nscore = require "vnet.netns.core"
local opts = require "vnet._opts"
local kinds = require "vnet._kinds"

local M = {}
local methods = {}
local Link = { __name = "vnet.link", methods = methods }
M.methods = methods

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

Link.__tostring = function(l)
  return string.format("vnet.link: %s (%s, ifindex %d)", l.name,
    rawget(l, "kind") or l.link_type or "?", l.ifindex)
end

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

-- The namespace object for the namespace we are in now, when it is one
-- that netns:run entered (so a link read here can be used from outside).
local function here()
  local ino = nscore.current_id()
  return netns()._running(ino), ino
end

local function wrap(t, ns, nsino)
  if ns == nil and nsino == nil then ns, nsino = here() end
  return fill(setmetatable({}, Link), t, ns, nsino)
end
M._wrap = wrap

-- Run fn(...) in the namespace of link object l (raises if unknown).
local function within(l, op, fn, ...)
  local ino = rawget(l, "_nsino")
  if ino == nil or ino == nscore.current_id() then return fn(...) end
  local ns = rawget(l, "netns")
  if ns then return ns:run(fn, ...) end
  raise(string.format("%s %s: the link is in another network namespace; " ..
    "use it from there (ns:run) or get it with link.get inside that namespace",
    op, l.name))
end
M._within = within

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

-- A namespace argument (ns object, name, pid) -> ns object | nil, msg, errno
local function tons(op, v)
  if type(v) == "userdata" and v.fileno then return v end
  if type(v) == "string" or math.type(v) == "integer" then
    return netns().open(v)
  end
  raise(string.format("%s: option 'netns' must be a netns, a name or a pid (got %s)",
    op, type(v)))
end
M._tons = tons

--- link.index(name) -> ifindex | nil, msg, errno
function M.index(name)
  return core.index(name, "link.index")
end

--- link.get(name | ifindex) -> link | nil, msg, errno
-- The link as the kernel reports it now, in the current namespace.
function M.get(l)
  local op = "link.get"
  local key = l
  if type(l) == "table" or type(l) == "userdata" then key = l.ifindex end
  if type(key) ~= "string" and math.type(key) ~= "integer" then
    raise(string.format("%s: expected a link name, ifindex or link object (got %s)",
      op, type(l)))
  end
  if type(key) == "string" then opts.ifname(op, key) end
  local t, err, eno = core.get(key, op, type(key) == "string" and key or "#" .. key)
  if not t then return nil, err, eno end
  return wrap(t)
end

--- link.list() -> { link, ... } (by ifindex) | nil, msg, errno
-- A consistent snapshot: a dump the kernel reports as interrupted is
-- asked for again.
function M.list()
  local ts, err, eno = core.list("link.list")
  if not ts then return nil, err, eno end
  local ns, ino = here()
  local out = {}
  for i, t in ipairs(ts) do out[i] = wrap(t, ns, ino) end
  table.sort(out, function(a, b) return a.ifindex < b.ifindex end)
  return out
end

-- the generic options of create and set, and create's body (vnet._linkspec)
local lspec = require "vnet._linkspec"
local generic_spec, feature_hint = lspec.generic_spec, lspec.feature_hint
M._create = lspec.create
M._check_mtu = lspec.check_new_mtu

--- link.create{kind =, name =, ...} -> link | nil, msg, errno
-- Generic options: name (required), mtu, address, txqueuelen, up, link
-- (the parent, IFLA_LINK), master, netns (create it straight in there),
-- numtxqueues, numrxqueues; plus the options of the kind (see vnet.<kind>).
-- A kind vnet does not describe is created with these options only.
-- A kind this kernel lacks: nil, "link.create x: this kernel has no 'K'
-- support (Unknown device type)", 95.
function M.create(o)
  local l, err, eno = M._create("link.create", nil, o)
  return l, err, eno
end

--- link.create_many{ {kind =, name =, ...}, ... } -> { link, ... } | nil,
-- msg, errno, k: many links in one batch (a few sends, the kernel's echo
-- instead of a read-back each), all or none: when request k fails, what
-- the batch made is deleted and msg names k (docs/links.md, vnet._batch).
function M.create_many(list)
  return require("vnet._batch").create_many("link.create_many", nil, list)
end

local set_base = {
  up = "boolean", mtu = "integer", address = "string", name = "string",
  master = { "string", "integer", "table", "userdata" }, nomaster = "boolean",
  txqueuelen = "integer", netns = { "string", "integer", "userdata" },
}

-- l is a link object or anything resolve() takes.
local function set(op, l, o)
  local obj = M.is(l) and l or nil
  local d = obj and obj.kind and kinds.get(obj.kind)
  o = opts.check(op, o, kinds.spec(d, set_base, true))
  local function body()
    local idx, name, eno = resolve(op, l)
    if not idx then return nil, name, eno end
    if o.master ~= nil and o.nomaster then
      raise(op .. " " .. name .. ": options 'master' and 'nomaster' exclude each other")
    end
    if o.netns ~= nil and (o.master ~= nil or o.nomaster) then
      raise(op .. " " .. name .. ": options 'netns' and '" .. (o.nomaster and "nomaster" or "master") ..
        "' cannot go in one request (the kernel refuses it): move the link first, " ..
        "then set its master in its new namespace")
    end
    if o.name ~= nil then opts.ifname(op, o.name) end
    session().changing(obj, idx, name, o)
    local spec, err, cur
    if o.mtu ~= nil then cur = core.get(idx, op, name) end -- its MTU range
    spec, err, eno = generic_spec(op, name, o, cur)
    if not spec then return nil, err, eno end
    if o.nomaster then spec.master = 0 end
    if d then
      spec.kind = d.kind
      spec.data = kinds.encode({ op = op, name = name, o = o,
        resolve = function(v) return (resolve(op, v)) end }, d, o, true)
      if not spec.data then spec.kind = nil end
    end
    local target
    if o.netns ~= nil then
      target, err, eno = tons(op, o.netns)
      if not target then return nil, err, eno end
      spec.netns_fd = target:fileno()
    end
    local ok
    ok, err, eno = core.set(idx, spec, op, name)
    if not ok then return nil, feature_hint(d, o, err, eno), eno end
    return true, target, o.name or name
  end
  local ok, target, newname
  if obj then ok, target, newname = within(obj, op, body)
  else ok, target, newname = body() end
  if not ok then return nil, target, newname end
  if obj then -- read the link back, wherever it now lives
    local t
    if target then
      t = target:run(core.get, newname, op, newname)
      if t then fill(obj, t, target, target:id()) end
    else
      t = within(obj, op, core.get, obj.ifindex, op, newname)
      if t then fill(obj, t, rawget(obj, "netns"), rawget(obj, "_nsino")) end
    end
    session().changed(obj)
  end
  return true
end

--- link.set(l, {up =, mtu =, address =, name =, master =, nomaster =,
-- txqueuelen =, netns =}) -> true | nil, msg, errno
-- netns moves the link: an ns object, a named namespace or a pid.
function M.set(l, o)
  return set("link.set", l, o)
end

--- l:set{...} -> true | nil, msg, errno: as link.set, plus the options of
-- the link's kind that can change (a macvlan's mode, a bridge's stp...).
-- The object is read back afterwards (also after a move to another netns).
function methods.set(l, o)
  return set("link.set", l, o)
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

--- link.delete(l) -> true | nil, msg, errno
function M.delete(l)
  if M.is(l) then return methods.delete(l) end
  local idx, name, eno = resolve("link.delete", l)
  if not idx then return nil, name, eno end
  local ok, err, eno2 = core.delete(idx, "link.delete", name)
  if ok then session().forget({ ifindex = idx }) end
  return ok, err, eno2
end

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

--- link.mtu(l) -> current MTU | nil, msg, errno
function M.mtu(l)
  local idx, name, eno = resolve("link.mtu", l)
  if not idx then return nil, name, eno end
  return core.mtu(name, "link.mtu")
end

--- link.addr_add(l, "a.b.c.d/len" | "v6/len", {peer = "x", ...}) -> true | nil, msg, errno
-- An address without /len is a host address (/32 or /128), as with `ip
-- addr add`. The same as vnet.addr.add, with "link.addr_add" in errors.
function M.addr_add(l, cidr, o)
  return require("vnet.addr")._send("link.addr_add", "add", l, cidr, o)
end

--- link.addr_del(l, cidr [, o]) -> true | nil, msg, errno
function M.addr_del(l, cidr, o)
  return require("vnet.addr")._send("link.addr_del", "del", l, cidr, o)
end

--- link.addrs([l]) -> { {family, address, prefixlen, cidr, peer, broadcast,
-- scope, label, flags, ifindex}, ... } for one link, or all when l is nil.
function M.addrs(l)
  return require("vnet.addr")._list("link.addrs", l, nil)
end

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

--- link.watch(fn [, {netns =, groups =}]) -> watcher: see vnet.watch
function M.watch(fn, o)
  return require("vnet.watch").links(fn, o)
end

return M
