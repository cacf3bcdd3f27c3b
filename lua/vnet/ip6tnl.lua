--- vnet.ip6tnl: a tunnel over IPv6, carrying IPv6 ("ip6ip6", the default),
-- IPv4 ("ipip6") or either ("any").
--
--    local t = assert(vnet.ip6tnl.create{ name = "ip6t1", ["local"] = "2001:db8::1",
--                                         remote = "2001:db8::2", mode = "ip6ip6" })
-- Options, besides link.create's: local, remote (IPv6), hoplimit,
-- tclass, encaplimit, flowlabel, mode, dev, external. Read back the same.
--- ip6tnl.create{name =, local =, remote =, mode =, ...} -> link | nil, msg, errno
return require("vnet._kinds").define {
  lane = { modules = { "ip6_tunnel" }, probe = "type ip6tnl local fd99::1 remote fd99::2" },
  kind = "ip6tnl",
  options = {
    dev = { attr = 1, fmt = "link" },
    ["local"] = { attr = 2, fmt = "ip6", change = true },
    remote = { attr = 3, fmt = "ip6", change = true },
    hoplimit = { attr = 4, fmt = "u8", change = true },
    tclass = { attr = 5, fmt = "u8", change = true },
    encaplimit = { attr = 6, fmt = "u8", change = true },
    flowlabel = { attr = 7, fmt = "be32", max = 0xfffff, change = true },
    mode = { attr = 9, fmt = "u8", enum = { ip6ip6 = 41, ipip6 = 4, any = 0 }, change = true },
    external = { attr = 19, fmt = "flag" },
  },
}
