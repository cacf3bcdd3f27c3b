--- vnet.nlmon: a netlink monitor: every netlink message in its namespace
-- passes by it, so a packet socket (or tcpdump -i nlmon0) on it sees
-- them (link_type "netlink"). No options beyond link.create's.
--
--    local m = assert(vnet.nlmon.create{ name = "nlmon0", up = true })
--- nlmon.create{name =, ...} -> link | nil, msg, errno
return require("vnet._kinds").define { kind = "nlmon",
  lane = { modules = { "nlmon" }, probe = "type nlmon" } }
