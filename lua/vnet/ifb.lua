--- vnet.ifb: Intermediate Functional Block: traffic redirected to it (tc
-- mirred) passes its qdisc and goes back where it came from, which lets
-- ingress traffic be shaped. No options beyond link.create's.
--
--    local i = assert(vnet.ifb.create{ name = "ifb9", up = true })
--- ifb.create{name =, ...} -> link | nil, msg, errno
return require("vnet._kinds").define { kind = "ifb",
  lane = { modules = { "ifb" }, probe = "type ifb" } }
