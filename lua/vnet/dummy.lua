--- vnet.dummy: a link that drops everything sent to it; a place to hang
-- addresses and routes. No options beyond link.create's.
--
--    local d = assert(vnet.dummy.create{ name = "dummy0", up = true })
--- dummy.create{name =, ...} -> link | nil, msg, errno
return require("vnet._kinds").define { kind = "dummy",
  lane = { modules = { "dummy" }, probe = "type dummy" } }
