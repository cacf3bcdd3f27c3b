--- vnet.vti: a virtual tunnel interface for IPsec over IPv4: traffic routed
-- into it is matched to IPsec policies by its keys.
--
--    local v = assert(vnet.vti.create{ name = "vti1", ["local"] = "10.0.0.1",
--                                      remote = "10.0.0.2", key = 5 })
-- Options, besides link.create's: local, remote (IPv4), key (both ways) or
-- ikey/okey, dev. Read back the same (ikey/okey).
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
--- vti.create{name =, local =, remote =, key =, ...} -> link | nil, msg, errno
return require("vnet._kinds").define {
  lane = { modules = { "ip_vti" }, probe = "type vti local 10.99.0.1 remote 10.99.0.2 key 7" },
  kind = "vti",
  options = {
    dev = { attr = 1, fmt = "link" },
    ikey = { attr = 2, fmt = "be32", change = true },
    okey = { attr = 3, fmt = "be32", change = true },
    key = { virtual = true, type = "integer", change = true },
    ["local"] = { attr = 4, fmt = "ip4", change = true },
    remote = { attr = 5, fmt = "ip4", change = true },
  },
  finish = function(ctx, o, items)
    if o.key == nil then return end
    if o.key < 0 or o.key > 0xffffffff then
      raise(string.format("%s %s: option 'key' must be 0 to 4294967295 (got %d)", ctx.op, ctx.name, o.key))
    end
    if o.ikey == nil then items[#items + 1] = { 2, "be32", o.key } end
    if o.okey == nil then items[#items + 1] = { 3, "be32", o.key } end
  end,
}
