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

local K = kinds.define { kind = "gre", options = M.options, finish = M.finish }
M.kind, M.descriptor, M.create = K.kind, K.descriptor, K.create

--- gre.create{name =, local =, remote =, ttl =, key =, ...} -> link | nil, msg, errno
return M
