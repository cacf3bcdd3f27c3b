--- vnet.ip6gretap: a GRE tunnel over IPv6 carrying Ethernet frames (a link
-- that can join a bridge). Options as vnet.ip6gre.
--- ip6gretap.create{name =, local =, remote =, ...} -> link | nil, msg, errno
local gre = require "vnet.gre"
return require("vnet._kinds").define { kind = "ip6gretap", options = gre.options6, finish = gre.finish6,
  lane = { modules = { "ip6_gre" }, probe = "type ip6gretap local fd99::1 remote fd99::2" } }
