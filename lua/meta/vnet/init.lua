---@meta vnet

---vnet: Lua-scriptable Linux virtual network devices. `require "vnet"`
---loads every module; in the vnet host it is the global `vnet`. Failures of
---the system return `nil, msg, errno` (the message names the operation, the
---object and the kernel's reason); misuse (a wrong type, an unknown option)
---raises at the caller's line.
---
---Example:
---```lua
---local vnet = require "vnet"
---print(vnet.version, #vnet.modules)
---```
---@class vnet
---@field packet vnet.packet
---@field loop vnet.loop
---@field link vnet.link
---@field netns vnet.netns
---@field tun vnet.tun
---@field tap vnet.tap
---@field proto vnet.proto
---@field pcap vnet.pcap
---@field psock vnet.psock
---@field addr vnet.addr
---@field route vnet.route
---@field neigh vnet.neigh
---@field watch vnet.watch
---@field bareudp vnet.bareudp
---@field bond vnet.bond
---@field bridge vnet.bridge
---@field dummy vnet.dummy
---@field erspan vnet.erspan
---@field geneve vnet.geneve
---@field gre vnet.gre
---@field gretap vnet.gretap
---@field hsr vnet.hsr
---@field ifb vnet.ifb
---@field ip6erspan vnet.ip6erspan
---@field ip6gre vnet.ip6gre
---@field ip6gretap vnet.ip6gretap
---@field ip6tnl vnet.ip6tnl
---@field ipip vnet.ipip
---@field ipoib vnet.ipoib
---@field ipvlan vnet.ipvlan
---@field ipvtap vnet.ipvtap
---@field lowpan vnet.lowpan
---@field macsec vnet.macsec
---@field macvlan vnet.macvlan
---@field macvtap vnet.macvtap
---@field netdevsim vnet.netdevsim
---@field netkit vnet.netkit
---@field nlmon vnet.nlmon
---@field rmnet vnet.rmnet
---@field sit vnet.sit
---@field vcan vnet.vcan
---@field veth vnet.veth
---@field vlan vnet.vlan
---@field vrf vnet.vrf
---@field vti vnet.vti
---@field vxcan vnet.vxcan
---@field vxlan vnet.vxlan
---@field tc vnet.tc
---@field topo vnet.topo
---@field session vnet.session
---@field show vnet.show
local vnet = {}

---The version of vnet, "0.1.0".
---@type string
vnet.version = nil

---The names of the public modules, in load order: `vnet[name]` is each one.
---@type string[]
vnet.modules = nil

---errno names to numbers (`vnet.errno.EEXIST == 17`), to compare the third
---result of a failure with.
---
---Example:
---```lua
---local ok, err, eno = vnet.link.get("no-such-link")
---if eno == vnet.errno.ENODEV then print("no such link") end
---```
---@type table<string, integer>
vnet.errno = nil

---JSON text of x: links, addresses, routes, neighbours and namespace lists
---shaped as `ip -j` prints them (the same function as vnet.show.json).
---
---Example:
---```lua
---print(vnet.json(assert(vnet.link.get("lo"))))
---```
---@param x any
---@return string json
function vnet.json(x) end

---Print the API reference of x: a function (`help(vnet.tun.open)`), an
---object (its class and methods), a module, or a name ("vnet.tun.open",
---"tun.open", "vnet.Link:set"). Without x, how to use it and the module
---list. An unknown x prints `help: no entry for 'x'` with the nearest
---names. At the REPL it is the global `help`.
---
---Example:
---```lua
---vnet.help(vnet.tun.open)
---vnet.help("vnet.Link:set")
---```
---@param x? any a function, object, module or name
function vnet.help(x) end

return vnet
