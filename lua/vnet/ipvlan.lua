--- vnet.ipvlan: several links on one parent that share its MAC address and
-- are told apart by IP address (the seed: "ipvlan ... 在ip层进行流量分离").
--
--    local iv = assert(vnet.ipvlan.create{ name = "iv0", link = "eth0",
--                                           mode = "l3", flags = "bridge" })
--    print(iv.mode, iv.info.flags)     --> l3  bridge
--
-- Options, besides link.create's (name, link = the parent, mtu, up,
-- netns...):
--    mode    "l2": the parent switches frames to the ipvlans;
--            "l3": the parent routes packets to them (no broadcast,
--            no ARP: each namespace needs a route to the others);
--            "l3s": l3 that also passes netfilter's input hooks
--    flags   "bridge" (default: ipvlans on one parent talk directly),
--            "private" (they cannot), "vepa" (only through the switch)
-- Both can be changed with l:set{}. Read back as l.mode and l.info.flags
-- (l.flags is the link's interface flags).
local kinds = require "vnet._kinds"

--- The modes: name -> IFLA_IPVLAN_MODE value (ipvtap shares them).
local modes = { l2 = 0, l3 = 1, l3s = 2 }
--- The flags: name -> IFLA_IPVLAN_FLAGS value (ipvtap shares them).
local flags = { bridge = 0, private = 1, vepa = 2 }

--- The options ipvlan and ipvtap share (mode, flags).
local options = {
  mode = { attr = 1, fmt = "u16", enum = modes, change = true },
  flags = { attr = 2, fmt = "u16", enum = flags, change = true },
}
--- What the kernel's bare errnos mean for an ipvlan (it gives no text).
local hints = {
  [16] = "the parent is already taken: it has macvlans, or is a bridge or bond port",
  [22] = "the parent cannot carry one (loopback, or it is itself an ipvlan)",
}

--- ipvlan.create{name =, link =, mode =, flags =, ...} -> link | nil, msg, errno
return kinds.define {
  lane = { modules = { "ipvlan" }, probe = "link kp-parent1 type ipvlan mode l2" },
  kind = "ipvlan", parent = "required", options = options, hints = hints,
  module = { modes = modes, flags = flags, options = options, hints = hints },
}
