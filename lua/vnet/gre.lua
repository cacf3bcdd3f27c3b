--- vnet.gre: a GRE tunnel over IPv4 carrying IP packets (vnet.gretap is
-- the same carrying Ethernet frames).
--
--    local g = assert(vnet.gre.create{ name = "gre1", ["local"] = "10.0.0.1",
--                                      remote = "10.0.0.2", ttl = 64, key = 7 })
--    print(g.remote, g.ikey)           --> 10.0.0.2  7
--
-- Options, besides link.create's: local, remote (IPv4), ttl, tos, key
-- (both directions) or ikey/okey, dev (the link its packets leave by),
-- pmtudisc (default on), external (collect metadata). Read back under the
-- same names (ikey/okey for the keys).
local kinds = require "vnet._kinds"
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line

local GRE_KEY = 0x2000
local M = {}

--- The options of the IPv4 GRE kinds (gre, gretap, erspan).
M.options = {
  dev = { attr = 1, fmt = "link" },
  ikey = { attr = 4, fmt = "be32", change = true },
  okey = { attr = 5, fmt = "be32", change = true },
  key = { virtual = true, type = "integer", change = true },
  ["local"] = { attr = 6, fmt = "ip4", change = true },
  remote = { attr = 7, fmt = "ip4", change = true },
  ttl = { attr = 8, fmt = "u8", change = true },
  tos = { attr = 9, fmt = "u8", change = true },
  pmtudisc = { attr = 10, fmt = "bool", change = true },
  external = { attr = 18, fmt = "flag" },
}

--- finish(ctx, o, items): the attributes the IPv4 GRE options imply
-- (keys and their flags). Shared by gretap and erspan.
function M.finish(ctx, o, items)
  local ik, ok = o.ikey or o.key, o.okey or o.key
  if o.key ~= nil then
    if o.key < 0 or o.key > 0xffffffff then
      raise(string.format("%s %s: option 'key' must be 0 to 4294967295 (got %d)", ctx.op, ctx.name, o.key))
    end
    if o.ikey == nil then items[#items + 1] = { 4, "be32", o.key } end
    if o.okey == nil then items[#items + 1] = { 5, "be32", o.key } end
  end
  if ik ~= nil then items[#items + 1] = { 2, "be16", GRE_KEY } end
  if ok ~= nil then items[#items + 1] = { 3, "be16", GRE_KEY } end
end

--- The GRE family over IPv6 (ip6gre, ip6gretap, ip6erspan): the same
-- attributes with IPv6 ends, a hop limit for the ttl, an encapsulation
-- limit and the flow label / traffic class (IFLA_GRE_FLOWINFO).
M.options6 = {
  dev = M.options.dev, ikey = M.options.ikey, okey = M.options.okey, key = M.options.key,
  ["local"] = { attr = 6, fmt = "ip6", change = true },
  remote = { attr = 7, fmt = "ip6", change = true },
  hoplimit = { attr = 8, fmt = "u8", change = true },
  encaplimit = { attr = 11, fmt = "u8", change = true },
  flowlabel = { virtual = true, type = "integer", change = true },
  tclass = { virtual = true, type = "integer", change = true },
  flowinfo = { attr = 12, readonly = true, decode = function(info, p)
    local v = string.unpack(">I4", p)
    info.flowlabel, info.tclass = v & 0xfffff, (v >> 20) & 0xff
  end },
  external = M.options.external,
  fwmark = { attr = 20, fmt = "u32", change = true },
}

local function range(ctx, key, v, hi)
  if v < 0 or v > hi then
    raise(string.format("%s %s: option '%s' must be 0 to %d (got %d)", ctx.op, ctx.name, key, hi, v))
  end
end

--- finish6(ctx, o, items, change): the same for the IPv6 GRE kinds.
function M.finish6(ctx, o, items, change)
  M.finish(ctx, o, items, change)
  if o.flowlabel ~= nil or o.tclass ~= nil then
    if o.flowlabel ~= nil then range(ctx, "flowlabel", o.flowlabel, 0xfffff) end
    if o.tclass ~= nil then range(ctx, "tclass", o.tclass, 0xff) end
    items[#items + 1] = { 12, "be32", ((o.tclass or 0) << 20) | (o.flowlabel or 0) }
  end
end

-- ERSPAN (erspan over IPv4, ip6erspan over IPv6): a GRE tap that carries
-- mirrored frames with an ERSPAN header. The kernel wants sequence numbers
-- and a key (the 10-bit session id) in both directions.
local GRE_SEQ = 0x1000
local erspan = {
  erspan_ver = { attr = 22, fmt = "u8", max = 2 },
  erspan_index = { attr = 21, fmt = "u32", max = 0xfffff, change = true },
  erspan_dir = { attr = 23, fmt = "u8", enum = { ingress = 0, egress = 1 }, change = true },
  erspan_hwid = { attr = 24, fmt = "u16", max = 0x3f, change = true },
}
--- erspan_options(base) -> base's options plus the ERSPAN ones.
function M.erspan_options(base)
  local t = {}
  for k, v in pairs(base) do t[k] = v end
  for k, v in pairs(erspan) do t[k] = v end
  return t
end

--- erspan_finish(v6) -> the finish function of erspan (or ip6erspan).
function M.erspan_finish(v6)
  return function(ctx, o, items, change)
    local ik, ok = o.ikey or o.key, o.okey or o.key
    if not change and (ik == nil or ok == nil) then
      raise(string.format("%s %s: option 'key' is required (the ERSPAN session id, 0 to 1023)",
        ctx.op, ctx.name))
    end
    for _, kv in ipairs { { "key", o.key }, { "ikey", o.ikey }, { "okey", o.okey } } do
      if kv[2] ~= nil then range(ctx, kv[1], kv[2], 1023) end
    end
    if o.key ~= nil then
      if o.ikey == nil then items[#items + 1] = { 4, "be32", o.key } end
      if o.okey == nil then items[#items + 1] = { 5, "be32", o.key } end
    end
    if not change then
      items[#items + 1] = { 2, "be16", M.KEY | GRE_SEQ }
      items[#items + 1] = { 3, "be16", M.KEY | GRE_SEQ }
    end
    if v6 and (o.flowlabel ~= nil or o.tclass ~= nil) then
      if o.flowlabel ~= nil then range(ctx, "flowlabel", o.flowlabel, 0xfffff) end
      if o.tclass ~= nil then range(ctx, "tclass", o.tclass, 0xff) end
      items[#items + 1] = { 12, "be32", ((o.tclass or 0) << 20) | (o.flowlabel or 0) }
    end
  end
end
--- The GRE_KEY flag (0x2000) of IFLA_GRE_IFLAGS / OFLAGS.
M.KEY = GRE_KEY

--- gre.create{name =, local =, remote =, ttl =, key =, ...} -> link | nil, msg, errno
return kinds.define { kind = "gre", options = M.options, finish = M.finish,
  lane = { modules = { "ip_gre" }, probe = "type gre local 10.99.0.1 remote 10.99.0.2" },
  module = M }
