--- vnet.ip6gre: a GRE tunnel over IPv6 carrying IP packets (vnet.ip6gretap
-- is the same carrying Ethernet frames).
--
--    local g = assert(vnet.ip6gre.create{ name = "g6", ["local"] = "2001:db8::1",
--                                         remote = "2001:db8::2", hoplimit = 64, key = 7 })
-- Options, besides link.create's: local, remote (IPv6), hoplimit,
-- encaplimit, flowlabel, tclass, key (both ways) or ikey/okey, dev,
-- fwmark, external. Read back under the same names.
--- ip6gre.create{name =, local =, remote =, ...} -> link | nil, msg, errno
local gre = require "vnet.gre"
return require("vnet._kinds").define { kind = "ip6gre", options = gre.options6, finish = gre.finish6,
  lane = { modules = { "ip6_gre" }, probe = "type ip6gre local fd99::1 remote fd99::2" } }
