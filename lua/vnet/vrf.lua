--- vnet.vrf: an L3 master device: links enslaved to it (l:set{master =
-- vrf}) route through its own routing table.
--
--    local v = assert(vnet.vrf.create{ name = "vrf-blue", table = 10, up = true })
--    assert(veth0:set{ master = v })
-- Options, besides link.create's: table (required). Read back as l.table.
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
--- vrf.create{name =, table =, ...} -> link | nil, msg, errno
return require("vnet._kinds").define {
  lane = { modules = { "vrf" }, probe = "type vrf table 100" },
  kind = "vrf",
  options = { table = { attr = 1, fmt = "u32", min = 1 } },
  check = function(op, name, o)
    if o.table == nil then raise(op .. " " .. name .. ": option 'table' is required") end
  end,
}
