--- vnet.ipvtap: an ipvlan whose frames go to /dev/tap<ifindex> instead of
-- the network stack, as a macvtap's do: `l:open()` returns a packet device
-- with the API of a TAP. Options are ipvlan's (mode, flags).
--
--    local t = assert(vnet.ipvtap.create{ name = "ivt0", link = "eth0", mode = "l2" })
--    local dev <close> = assert(t:open())
local kinds = require "vnet._kinds"
local ipvlan = require "vnet.ipvlan"
local macvtap = require "vnet.macvtap"

--- ipvtap.create{name =, link =, mode =, flags =, ...} -> link | nil, msg, errno
return kinds.define {
  lane = { modules = { "ipvtap" }, probe = "link kp-parent1 type ipvtap mode l3" },
  kind = "ipvtap", parent = "required", options = ipvlan.options, hints = ipvlan.hints,
  methods = { open = macvtap.open },
  module = {
    --- The modes, ipvlan's: name -> IFLA_IPVLAN_MODE value.
    modes = ipvlan.modes,
    --- The flags, ipvlan's: name -> IFLA_IPVLAN_FLAGS value.
    flags = ipvlan.flags,
  },
}
