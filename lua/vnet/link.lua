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
  error(string.format("%s %s: the link is in another network namespace; " ..
    "use it from there (ns:run) or get it with link.get inside that namespace",
    op, l.name), 3)
end
M._within = within

-- ifindex and a display name for a link argument, or nil, msg, errno.
-- Link objects from elsewhere must be used through within().
local function resolve(op, l, level)
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
  error(string.format("%s: expected a link name, ifindex or link object (got %s)",
    op, t), level or 3)
end
M._resolve = resolve

-- A namespace argument (ns object, name, pid) -> ns object | nil, msg, errno
local function tons(op, v, level)
  if type(v) == "userdata" and v.fileno then return v end
  if type(v) == "string" or math.type(v) == "integer" then
    return netns().open(v)
  end
  error(string.format("%s: option 'netns' must be a netns, a name or a pid (got %s)",
    op, type(v)), level)
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
    error(string.format("%s: expected a link name, ifindex or link object (got %s)",
      op, type(l)), 2)
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

local generic = {
  kind = "string", name = "string", mtu = "integer", address = "string",
  txqueuelen = "integer", up = "boolean", link = { "string", "integer", "table", "userdata" },
  master = { "string", "integer", "table", "userdata" },
  netns = { "string", "integer", "userdata" },
  numtxqueues = "integer", numrxqueues = "integer", persist = "boolean",
}


local function check_mtu(op, name, mtu, level)
  if mtu and (mtu < 68 and mtu ~= 0 or mtu > 0xffffff) then
    error(string.format("%s %s: mtu %d out of range", op, name, mtu), level)
  end
end

-- What every create/set shares: generic options -> spec fields.
-- Returns spec, or nil, msg, errno (a named link that does not exist).
local function generic_spec(op, name, o, level)
  local spec = { name = o.name, mtu = o.mtu, txqueuelen = o.txqueuelen, up = o.up,
    numtxqueues = o.numtxqueues, numrxqueues = o.numrxqueues }
  check_mtu(op, name, o.mtu, level + 1)
  if o.address then
    spec.address = nl.mac(o.address)
    if not spec.address then
      error(string.format("%s %s: option 'address': '%s' is not a MAC address " ..
        "(aa:bb:cc:dd:ee:ff)", op, name, o.address), level)
    end
  end
  for _, f in ipairs { { "link", "parent" }, { "master", "master" } } do
    local v = o[f[1]]
    if v ~= nil then
      local idx, err, eno = resolve(op, v, level + 1)
      if not idx then
        return nil, string.format("%s %s: %s (%s '%s')", op, name, err:match(": (.*)$"),
          f[1] == "link" and "parent" or f[1], tostring(type(v) == "table" and v.name or v)), eno
      end
      spec[f[2]] = idx
    end
  end
  return spec
end

-- "this kernel has no 'ipvlan' support" for an unknown device type.
local function kind_error(op, name, kind, err, eno)
  if eno == 95 and err and err:find("(Unknown device type)", 1, true) then
    return nil, string.format("%s %s: this kernel has no '%s' support (Unknown device type)",
      op, name, kind), eno
  end
  return nil, err, eno
end

--- The shared body of link.create and every kind's create.
function M._create(op, d, o, level)
  level = level or 3
  if type(o) ~= "table" then
    error(string.format("%s: options must be a table (got %s)", op, type(o)), level)
  end
  local kind = o.kind or (d and d.kind)
  if type(kind) ~= "string" then error(op .. ": option 'kind' is required (a string)", level) end
  if kind == "tun" or kind == "tap" then
    error(string.format("%s: %s devices are made with vnet.%s.open (the kernel " ..
      "does not create them over rtnetlink)", op, kind, kind), level)
  end
  d = d or kinds.get(kind)
  if d and d.create == false then d = nil end
  opts.check(op, o, kinds.spec(d, generic), level + 1)
  if o.name == nil then error(op .. ": option 'name' is required", level) end
  opts.ifname(op, o.name, level + 1)
  if d and d.kind ~= kind then
    error(string.format("%s: option 'kind' is '%s', not '%s'", op, kind, d.kind), level)
  end
  local name = o.name
  if d and d.parent == "required" and o.link == nil then
    error(string.format("%s %s: option 'link' is required (the parent device)", op, name), level)
  end
  if d and d.check then d.check(op, name, o, level + 1) end
  local spec, err, eno = generic_spec(op, name, o, level + 1)
  if not spec then return nil, err, eno end
  spec.kind, spec.group = kind, session().group(o.persist)
  local hold = {} -- namespace objects kept open until the request is sent
  local ctx = {
    op = op, name = name, level = level + 2, o = o, hold = hold,
    resolve = function(v, key)
      local idx, rerr = resolve(op, v, level + 3)
      if not idx then
        error(string.format("%s %s: option '%s': %s", op, name, key, rerr:match(": (.*)$")), level + 3)
      end
      return idx
    end,
    netns = function(v)
      local ns, nerr, neno = tons(op, v, level + 3)
      if not ns then error({ syserr = { nerr, neno } }) end
      hold[#hold + 1] = ns
      return ns
    end,
  }
  if d then
    local okd, data = pcall(kinds.encode, ctx, d, o, false)
    if not okd then
      if type(data) == "table" and data.syserr then return nil, data.syserr[1], data.syserr[2] end
      error(data, 0)
    end
    spec.data = data
  end
  local target
  if o.netns ~= nil then
    local ns, nerr, neno = tons(op, o.netns, level + 1)
    if not ns then return nil, nerr, neno end
    target = ns
    spec.netns_fd = ns:fileno()
  end
  local ok
  local held <close> = session().hold() -- until it is in the journal
  ok, err, eno = core.create(spec, op, name)
  if not ok then
    local hint = d and d.hints and d.hints[eno]
    if hint and not err:find("%)$") then err = err .. " (" .. hint .. ")" end
    return kind_error(op, name, kind, err, eno)
  end
  local t, l
  if target then
    t, err, eno = target:run(core.get, name, op, name)
    if t then l = wrap(t, target, target:id()) end
  else
    t, err, eno = core.get(name, op, name)
    if t then l = wrap(t) end
  end
  if not l then return nil, err, eno end
  if d and d.after then -- what one request cannot do (ports, slaves...)
    ok, err, eno = d.after(l, o, op)
    if not ok then
      l:delete()
      return nil, err, eno
    end
  end
  return session().own_link(l, o.persist)
end

--- link.create{kind =, name =, ...} -> link | nil, msg, errno
-- Generic options: name (required), mtu, address, txqueuelen, up, link
-- (the parent, IFLA_LINK), master, netns (create it straight in there),
-- numtxqueues, numrxqueues; plus the options of the kind (see vnet.<kind>).
-- A kind vnet does not describe is created with these options only.
-- A kind this kernel lacks: nil, "link.create x: this kernel has no 'K'
-- support (Unknown device type)", 95.
function M.create(o)
  local l, err, eno = M._create("link.create", nil, o, 3)
  return l, err, eno
end

local set_base = {
  up = "boolean", mtu = "integer", address = "string", name = "string",
  master = { "string", "integer", "table", "userdata" }, nomaster = "boolean",
  txqueuelen = "integer", netns = { "string", "integer", "userdata" },
}

-- l is a link object or anything resolve() takes.
local function set(op, l, o, level)
  local obj = M.is(l) and l or nil
  local d = obj and obj.kind and kinds.get(obj.kind)
  o = opts.check(op, o, kinds.spec(d, set_base, true), level + 1)
  local function body()
    local idx, name, eno = resolve(op, l, level + 3)
    if not idx then return nil, name, eno end
    if o.master ~= nil and o.nomaster then
      error(op .. " " .. name .. ": options 'master' and 'nomaster' exclude each other", level + 3)
    end
    if o.name ~= nil then opts.ifname(op, o.name, level + 3) end
    session().changing(obj, idx, name, o)
    local spec, err
    spec, err, eno = generic_spec(op, name, o, level + 2)
    if not spec then return nil, err, eno end
    if o.nomaster then spec.master = 0 end
    if d then
      spec.kind = d.kind
      spec.data = kinds.encode({ op = op, name = name, level = level + 3, o = o,
        resolve = function(v) return (resolve(op, v, level + 4)) end }, d, o, true)
      if not spec.data then spec.kind = nil end
    end
    local target
    if o.netns ~= nil then
      target, err, eno = tons(op, o.netns, level + 3)
      if not target then return nil, err, eno end
      spec.netns_fd = target:fileno()
    end
    local ok
    ok, err, eno = core.set(idx, spec, op, name)
    if not ok then return nil, err, eno end
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
  return set("link.set", l, o, 2)
end

--- l:set{...} -> true | nil, msg, errno: as link.set, plus the options of
-- the link's kind that can change (a macvlan's mode, a bridge's stp...).
-- The object is read back afterwards (also after a move to another netns).
function methods.set(l, o)
  return set("link.set", l, o, 2)
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
    return nil, string.format("%s %s: No such device (the link has no peer or parent)", op, l.name), 19
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
  return require("vnet.addr")._send("link.addr_add", "add", l, cidr, o, 3)
end

--- link.addr_del(l, cidr [, o]) -> true | nil, msg, errno
function M.addr_del(l, cidr, o)
  return require("vnet.addr")._send("link.addr_del", "del", l, cidr, o, 3)
end

--- link.addrs([l]) -> { {family, address, prefixlen, cidr, peer, broadcast,
-- scope, label, flags, ifindex}, ... } for one link, or all when l is nil.
function M.addrs(l)
  return require("vnet.addr")._list("link.addrs", l, nil, 3)
end

--- link.watch(fn [, {netns =, groups =}]) -> watcher: see vnet.watch
function M.watch(fn, o)
  return require("vnet.watch").links(fn, o)
end

return M
