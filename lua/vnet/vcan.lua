--- vnet.vcan: a virtual CAN bus interface: what is sent on it comes back to
-- every CAN socket bound to it (link_type "can"). No options beyond
-- link.create's.
--
--    local c = assert(vnet.vcan.create{ name = "vcan0", up = true })
--- vcan.create{name =, ...} -> link | nil, msg, errno
return require("vnet._kinds").define { kind = "vcan",
  lane = { modules = { "vcan" }, probe = "type vcan" } }
