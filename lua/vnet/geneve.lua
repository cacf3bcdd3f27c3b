--- vnet.geneve: GEneric NEtwork Virtualization Encapsulation: Ethernet
-- frames in UDP to one remote endpoint, told apart by a 24-bit VNI.
--
--    local g = assert(vnet.geneve.create{ name = "gnv0", id = 7, remote = "10.0.0.2" })
-- Options, besides link.create's: id (required unless external), remote
-- (IPv4 or IPv6), ttl, tos, dstport (default 6081), udp_csum, df ("unset",
-- "set", "inherit"), external. Read back the same.
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
--- geneve.create{name =, id =, remote =, ...} -> link | nil, msg, errno
return require("vnet._kinds").define {
  lane = { modules = { "geneve" }, probe = "type geneve id 7 remote 10.99.0.2" },
  kind = "geneve",
  options = {
    id = { attr = 1, fmt = "u32", max = 0xffffff },
    remote = { attr = 2, attr6 = 7, fmt = "ip" },
    ttl = { attr = 3, fmt = "u8" },
    tos = { attr = 4, fmt = "u8" },
    dstport = { attr = 5, fmt = "be16" },
    external = { attr = 6, fmt = "flag" },
    udp_csum = { attr = 8, fmt = "bool" },
    df = { attr = 13, fmt = "u8", enum = { unset = 0, set = 1, inherit = 2 } },
  },
  check = function(op, name, o)
    if o.id == nil and not o.external then
      raise(op .. " " .. name .. ": option 'id' is required (the VNI, 0 to 16777215)")
    end
    if o.remote == nil and not o.external then
      raise(op .. " " .. name .. ": option 'remote' is required")
    end
  end,
}
