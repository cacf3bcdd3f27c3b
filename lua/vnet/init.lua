--- vnet: Lua-scriptable Linux virtual network devices.
-- require "vnet" loads every module; in the vnet host it is the global
-- `vnet`. Modules: vnet.tun, vnet.tap, vnet.loop, vnet.packet, vnet.link,
-- vnet.netns, vnet.proto, vnet.pcap, vnet.psock.
local vnet = { version = "0.1.0" }
for _, name in ipairs { "packet", "loop", "link", "netns", "tun", "tap", "proto", "pcap", "psock" } do
  vnet[name] = require("vnet." .. name)
end
-- addresses, routes, neighbours, link events and every link kind
for _, name in ipairs { "addr", "route", "neigh", "watch", "veth", "macvlan", "macvtap", "ipvlan", "ipvtap", "bridge",
    "vlan", "vxlan", "dummy", "ifb", "bond", "gre", "gretap", "ipip", "sit", "ip6tnl", "vti",
    "geneve", "vrf" } do
  vnet[name] = require("vnet." .. name)
end
return vnet
