--- vnet._kinds: the table of link kinds, and the one encoder/decoder they share.
--
-- A kind is described once, as data, in its own module (lua/vnet/<kind>.lua):
-- which options it takes, which IFLA_INFO_DATA attribute each one becomes,
-- and how the value is written. From that one description come the option
-- check of `create` (unknown keys rejected, naming the key), the attributes
-- core/netlink/link.c writes with nla_put, which options `:set{}` may change, and
-- the decoding of what the kernel reports back (`l.mode`, `l.id`, ...).
-- Adding a kind is one file calling `define`, or one row in `rows` below.
--
-- An option description is a table:
--    attr    the attribute number (IFLA_MACVLAN_MODE = 1, ...)
--    fmt     "u8" "u16" "u32" "u64" "be16" "be32" "flag" "bool" (u8 0/1)
--            "bool32" (u32 0/1)
--            "string" "mac" "ip4" "ip6" "link" (an ifindex, u32)
--            "ip" (attr for IPv4, attr6 for IPv6)
--    enum    {name = number}: the value is one of the names
--    min, max  integer range (default: the range of fmt)
--    change  true when `:set{}` may change it on an existing link
--    encode  function(ctx, v) -> items: anything the above cannot say
--    decode  function(info, payload): the reverse, for encode's attribute
--    virtual an accepted option that `finish` turns into attributes
--    readonly  only read back (not an option)
--    feature   what a kernel lacks when it refuses the option without saying
--              why (EOPNOTSUPP): added to that error
--    encode_only  written but read back under another name (decode_extra)
--    doc     one line for the documentation
--
-- And a kind description: kind, options, check(op, name, o) for
-- rules across options, finish(ctx, o, items, change) to add attributes
-- from virtual options, decode_extra(info, blob), port_options (the
-- options of its ports, IFLA_INFO_SLAVE_DATA, for a bridge or bond),
-- methods (extra methods of its link objects), parent = "required" when
-- option `link` must be given, before(op, name, o) -> true | nil, msg,
-- errno for what must hold before the kernel is asked (the parent's type),
-- and lane = {modules = {...}, probe = "ip link add arguments"}: the
-- kernel modules the kind needs and how the full-kernel lane proves the
-- kernel can make one (tools/kinds.lua reads them; hardware = "..." for
-- kinds that need hardware vnet cannot make). So that every kind file
-- ends in `return kinds.define{...}`: module = the table to return (what
-- the kind offers besides kind, descriptor and create: its mode table,
-- functions others build on), and create_with(M, op) -> the module's
-- create when it is not link.create's (a pair's returns both ends; the
-- one-link create stays as M._create). example = {option = value, ...}:
-- a minimal create (without name) that spec/kinds_spec.lua makes, checks
-- with `ip -d -j link` and reads back option by option when the spec has
-- no case of its own for the kind; there the veth ends p0 and p1 exist,
-- for `link = "p0"` and other link options. Each option it gives must
-- read back as given (as the decoder reads it: an ifindex for a link).
local nl = require "vnet.nl.core"
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line

local K = {}
local registry = {}

local ranges = {
  u8 = { 0, 0xff }, u16 = { 0, 0xffff }, u32 = { 0, 0xffffffff },
  be16 = { 0, 0xffff }, be32 = { 0, 0xffffffff },
  u64 = { math.mininteger, math.maxinteger }, -- all 64 bits (an sci, a cipher id)
}

local function keys(t)
  local k = {}
  for name in pairs(t) do k[#k + 1] = tostring(name) end
  table.sort(k)
  return k
end

-- The Lua type an option takes, for vnet._opts.check.
local function luatype(o)
  if o.type then return o.type end
  if o.enum then return "string" end
  if o.fmt == "flag" or o.fmt == "bool" or o.fmt == "bool32" then return "boolean" end
  if ranges[o.fmt] then return "integer" end
  if o.fmt == "link" then return { "string", "integer", "table", "userdata" } end
  return "string"
end
K.luatype = luatype

--- Encode one option value into items ({type, fmt, value}, ...).
-- Raises (misuse) with "op name: option 'key' ..." on a bad value.
-- @param ctx {op=, name=, resolve=function(v) -> ifindex}
function K.encode_option(ctx, key, o, v)
  local function bad(why)
    raise(string.format("%s %s: option '%s' %s", ctx.op, ctx.name, key, why))
  end
  if o.encode then return o.encode(ctx, v, bad) end
  if o.enum then
    local n = o.enum[v]
    if n == nil then
      bad(string.format("must be one of %s (got '%s')", table.concat(keys(o.enum), ", "), tostring(v)))
    end
    return { { o.attr, o.fmt, n } }
  end
  local fmt = o.fmt
  if fmt == "flag" then return v and { { o.attr, "flag" } } or {} end
  if fmt == "bool" then return { { o.attr, "u8", v and 1 or 0 } } end
  if fmt == "bool32" then return { { o.attr, "u32", v and 1 or 0 } } end
  if ranges[fmt] then
    local lo, hi = o.min or ranges[fmt][1], o.max or ranges[fmt][2]
    if v < lo or v > hi then bad(string.format("must be %d to %d (got %d)", lo, hi, v)) end
    return { { o.attr, fmt, v } }
  end
  if fmt == "string" then return { { o.attr, "string", v } } end
  if fmt == "mac" then
    local b = nl.mac(v)
    if not b then bad(string.format("'%s' is not a MAC address (aa:bb:cc:dd:ee:ff)", v)) end
    return { { o.attr, "bytes", b } }
  end
  if fmt == "link" then return { { o.attr, "u32", ctx.resolve(v, key) } } end
  if fmt == "ip4" or fmt == "ip6" or fmt == "ip" then
    local fam, b = nl.pton(v)
    if not fam or (fmt == "ip4" and fam ~= "inet") or (fmt == "ip6" and fam ~= "inet6") then
      bad(string.format("'%s' is not an %s address", v,
        fmt == "ip4" and "IPv4" or fmt == "ip6" and "IPv6" or "IPv4 or IPv6"))
    end
    local attr = (fmt == "ip" and fam == "inet6") and o.attr6 or o.attr
    return { { attr, "bytes", b } }
  end
  raise("vnet._kinds: option '" .. key .. "' has unknown fmt " .. tostring(fmt))
end

--- Encode every kind option present in o.
-- @param change true for :set{} (only options marked change are allowed)
-- @return items, or nil when no option was given
function K.encode(ctx, d, o, change)
  local items, any = {}, false
  for _, key in ipairs(keys(d.options or {})) do
    local v = o[key]
    local od = d.options[key]
    if v ~= nil and not od.virtual and not od.readonly then
      if change and not od.change then
        raise(string.format("%s %s: option '%s' of a %s cannot be changed after creation",
          ctx.op, ctx.name, key, d.kind))
      end
      for _, it in ipairs(K.encode_option(ctx, key, od, v)) do items[#items + 1] = it end
      any = true
    end
  end
  if d.finish then d.finish(ctx, o, items, change) end
  return (any or #items > 0) and items or nil
end

local function decode_value(o, p)
  local fmt = o.fmt
  local v
  if fmt == "u8" or fmt == "bool" then v = p:byte(1)
  elseif fmt == "u16" then v = string.unpack("=I2", p)
  elseif fmt == "u32" or fmt == "link" or fmt == "bool32" then v = string.unpack("=I4", p)
  elseif fmt == "u64" then v = string.unpack("=i8", p)
  elseif fmt == "be16" then v = string.unpack(">I2", p)
  elseif fmt == "be32" then v = string.unpack(">I4", p)
  elseif fmt == "flag" then return true
  elseif fmt == "string" then return (p:gsub("%z+$", ""))
  elseif fmt == "mac" then return nl.hwaddr(p)
  elseif fmt == "ip4" or fmt == "ip6" or fmt == "ip" then return nl.ntop(p)
  else return p end
  if fmt == "bool" or fmt == "bool32" then return v ~= 0 end
  if o.enum then
    for name, n in pairs(o.enum) do if n == v then return name end end
  end
  return v
end

--- Decode an IFLA_INFO_DATA (or slave data) blob with a table of options.
-- @return a table {option = value}, unknown attributes under [number]
function K.decode(options, blob, extra)
  local info = {}
  if not blob then return info end
  local by = {}
  for key, o in pairs(options or {}) do
    if not o.encode_only then
      if o.attr then by[o.attr] = { key, o } end
      if o.attr6 then by[o.attr6] = { key, o } end
    end
  end
  for _, a in ipairs(nl.attrs(blob)) do
    local t, p = a[1], a[2]
    local hit = by[t]
    if hit and hit[2].decode then
      hit[2].decode(info, p)
    elseif hit and not hit[2].encode_only then
      local ok, v = pcall(decode_value, hit[2], p)
      if ok then info[hit[1]] = v end
    end
  end
  if extra then extra(info, blob) end
  return info
end

--- The option spec of a kind for vnet._opts.check (base + its options).
function K.spec(d, base, change)
  local s = {}
  for k, v in pairs(base) do s[k] = v end
  for k, o in pairs(d and d.options or {}) do
    if not o.readonly and (not change or o.change) then s[k] = luatype(o) end
  end
  return s
end

--- Register a kind description; returns a module table with `kind`,
-- `descriptor` and `create`. `create(o)` is `vnet.link.create` with the
-- kind filled in.
function K.define(d)
  assert(type(d.kind) == "string", "kind description without a kind")
  d.options = d.options or {}
  registry[d.kind] = d
  for k in pairs(d.example or {}) do
    assert(d.options[k] or k == "link", "kind " .. d.kind .. ": example has '" .. tostring(k) .. "', not an option")
  end
  local M = d.module or {}
  d.module = nil
  assert(M.kind == nil and M.descriptor == nil and M.create == nil, "kind module already has kind, descriptor or create")
  M.kind, M.descriptor = d.kind, d
  --- create{name = ..., kind options...} -> link | nil, msg, errno
  local function create(o)
    return require("vnet.link")._create(d.kind .. ".create", d, o)
  end
  if d.create_with then
    M._create, M.create = create, d.create_with(M, d.kind .. ".create")
  else
    M.create = create
  end
  --- create_many{ {name = ..., ...}, ... } -> { link, ... } | nil, msg,
  -- errno, k: many in one batch, all or none (vnet._batch; pairs:
  -- create_many_with, which returns both ends' lists)
  if d.create_many_with then
    M.create_many = d.create_many_with(M, d.kind .. ".create_many")
  elseif not d.create_with then -- (a create of its own, netdevsim's: none)
    function M.create_many(list)
      return require("vnet._batch").create_many(d.kind .. ".create_many", d, list)
    end
  end
  return M
end

--- The description of a kind, loading vnet.<kind> when it is one; nil for
-- a kind vnet does not describe (the generic path: name + kind only).
function K.get(kind)
  if registry[kind] then return registry[kind] end
  local name = "vnet." .. kind
  if not kind:find("^[%w_]+$") then return nil end
  if package.preload[name] or package.searchpath(name, package.path) then
    local mod = require(name)
    if type(mod) == "table" and mod.descriptor then return mod.descriptor end
  end
  return nil
end

--- Every kind currently described (loads nothing).
function K.known()
  return keys(registry)
end

-- Kinds that need no module of their own: one row each.
local rows = {
  -- read back only: TUN/TAP are made with vnet.tun / vnet.tap (ioctls)
  { kind = "tun", create = false, options = {
    owner = { attr = 1, fmt = "u32" }, group = { attr = 2, fmt = "u32" },
    type = { attr = 3, fmt = "u8", enum = { tun = 1, tap = 2 } },
    pi = { attr = 4, fmt = "bool" }, vnet_hdr = { attr = 5, fmt = "bool" },
    persist = { attr = 6, fmt = "bool" }, multi_queue = { attr = 7, fmt = "bool" },
    num_queues = { attr = 8, fmt = "u32" },
  } },
}
for _, r in ipairs(rows) do registry[r.kind] = r end

return K
