--- vnet.gretap: a GRE tunnel over IPv4 carrying Ethernet frames (a link
-- that can join a bridge). Options as vnet.gre.
--- gretap.create{name =, local =, remote =, ...} -> link | nil, msg, errno
local gre = require "vnet.gre"
return require("vnet._kinds").define { kind = "gretap", options = gre.options, finish = gre.finish,
  lane = { modules = { "ip_gre" }, probe = "type gretap local 10.99.0.1 remote 10.99.0.2" } }
