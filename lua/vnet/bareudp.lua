--- vnet.bareudp: a bare UDP tunnel: L3 packets of one ethertype (MPLS,
-- IPv4, IPv6) carried in UDP with no header of their own, as RFC 8086
-- (MPLS-in-UDP) does; the far end is chosen per packet by tunnel metadata
-- (tc tunnel_key, lwtunnel routes), so the link has no remote.
--
--    local b = assert(vnet.bareudp.create{ name = "bu0", dstport = 6635,
--                                          ethertype = "mpls_uc" })
--    print(b.dstport, b.ethertype)       --> 6635  mpls_uc
--
-- Options, besides link.create's (none can change after creation: the
-- kernel has no changelink for bareudp):
--    dstport      the UDP port it listens and sends on (required)
--    ethertype    what it carries (required): "ipv4", "ipv6", "mpls_uc"
--                 (unicast MPLS) or "mpls_mc" (multicast MPLS)
--    srcport_min  the lowest UDP source port it sends from
--    multiproto   with "ipv4": IPv6 too; with "mpls_uc": multicast MPLS too
-- Read back under the same names.
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
--- bareudp.create{name =, dstport =, ethertype =, ...} -> link | nil, msg, errno
return require("vnet._kinds").define {
  kind = "bareudp",
  options = {
    dstport = { attr = 1, fmt = "be16", min = 1, doc = "the UDP port (required)" },
    ethertype = { attr = 2, fmt = "be16", doc = "the one protocol it carries (required)",
      enum = { ipv4 = 0x0800, ipv6 = 0x86dd, mpls_uc = 0x8847, mpls_mc = 0x8848 } },
    srcport_min = { attr = 3, fmt = "u16", min = 1, doc = "the lowest UDP source port" },
    multiproto = { attr = 4, fmt = "flag", doc = "ipv4 carries IPv6 too, mpls_uc multicast MPLS too" },
  },
  check = function(op, name, o)
    for _, k in ipairs { "dstport", "ethertype" } do
      if o[k] == nil then raise(op .. " " .. name .. ": option '" .. k .. "' is required") end
    end
    if o.multiproto and o.ethertype ~= "ipv4" and o.ethertype ~= "mpls_uc" then
      raise(op .. " " .. name .. ": option 'multiproto' needs ethertype \"ipv4\" or \"mpls_uc\" (got '" ..
        tostring(o.ethertype) .. "')")
    end
  end,
  example = { dstport = 6635, ethertype = "mpls_uc", srcport_min = 49153, multiproto = true },
  lane = { modules = { "bareudp" }, probe = "type bareudp dstport 6635 ethertype mpls_uc",
    -- Debian's kernels do not build it: the full-kernel lane does, alone
    build = { dir = "drivers/net", config = "CONFIG_BAREUDP", file = "bareudp" } },
}
