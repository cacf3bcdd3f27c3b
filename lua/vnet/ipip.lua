--- vnet.ipip: an IPv4-in-IPv4 tunnel (vnet.sit: IPv6 in IPv4).
--
--    local t = assert(vnet.ipip.create{ name = "ipip1", ["local"] = "10.0.0.1",
--                                       remote = "10.0.0.2", ttl = 64 })
-- Options, besides link.create's: local, remote (IPv4), ttl, tos, dev (the
-- link its packets leave by), pmtudisc, external. Read back the same.
local kinds = require "vnet._kinds"
--- The options of ipip (sit starts from them).
local options = {
  dev = { attr = 1, fmt = "link" },
  ["local"] = { attr = 2, fmt = "ip4", change = true },
  remote = { attr = 3, fmt = "ip4", change = true },
  ttl = { attr = 4, fmt = "u8", change = true },
  tos = { attr = 5, fmt = "u8", change = true },
  pmtudisc = { attr = 10, fmt = "bool", change = true },
  external = { attr = 19, fmt = "flag" },
}
--- ipip.create{name =, local =, remote =, ...} -> link | nil, msg, errno
return kinds.define { kind = "ipip", options = options, module = { options = options },
  lane = { modules = { "ipip" }, probe = "type ipip local 10.99.0.1 remote 10.99.0.2" } }
