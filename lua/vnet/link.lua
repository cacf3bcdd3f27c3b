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
--
-- The parts: vnet._linkobj (the link object and its methods), vnet._linkset
-- (link.set), vnet._linkns (namespaces), vnet._linkspec (create's body).
local core = require "vnet.link.core"
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
local opts = require "vnet._opts"
local obj = require "vnet._linkobj"
local lns = require "vnet._linkns"

local M = {}
local methods = obj.methods
M.methods = methods
local wrap, resolve, here = obj.wrap, obj.resolve, lns.here
M._wrap, M._within, M._resolve, M._tons = wrap, lns.within, resolve, lns.tons

local function session() return require "vnet.session" end

--- link.is(v) -> true when v is a link object
function M.is(v) return getmetatable(v) == obj.Link end

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
  return require("vnet.show").mark("vnet.link.list", out) -- prints as `ip -br link`
end

-- create's body and the generic options (vnet._linkspec)
local lspec = require "vnet._linkspec"
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

--- link.set(l, {up =, mtu =, address =, name =, master =, nomaster =,
-- txqueuelen =, netns =}) -> true | nil, msg, errno
-- netns moves the link: an ns object, a named namespace or a pid.
function M.set(l, o)
  return require("vnet._linkset").set("link.set", l, o)
end

--- link.delete(l) -> true | nil, msg, errno
function M.delete(l)
  if M.is(l) then return methods.delete(l) end
  local idx, name, eno = resolve("link.delete", l)
  if not idx then return nil, name, eno end
  local ok, err, eno2 = core.delete(idx, "link.delete", name)
  if ok then session().forget({ ifindex = idx }) end
  return ok, err, eno2
end

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

--- link.watch(fn [, {netns =, groups =}]) -> watcher: see vnet.watch
function M.watch(fn, o)
  return require("vnet.watch").links(fn, o)
end

return M
