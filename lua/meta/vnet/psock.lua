---@meta vnet.psock

---vnet.psock: a packet socket (AF_PACKET) on any link, in any namespace:
---see and send the traffic of a veth, a bridge or its ports, a macvlan, a
---vxlan, a TUN/TAP..., as tcpdump and scapy do. The socket is a
---vnet.Device (read, write, on_packet, capture, set_filter, info) with
---fields drops, kernel_packets, linktype, direction, promisc, protocol,
---filter, block_size, blocks, timeout.
---
---Example:
---```lua
---local s <close> = assert(vnet.psock.open("lo", { filter = "udp port 53" }))
---s:on_packet(function(p, s) print(p) end)
---```
---@class vnet.psock
local psock = {}

---Open a packet socket on a link (a name, ifindex, or object). Options:
---netns (open it there), promisc, direction ("both", "in", "out"),
---protocol ("all", "ipv4", "ipv6", "arp", or an ethertype), filter (a
---tcpdump expression run in the kernel), block_size, blocks, timeout (of
---the receive ring).
---
---Example:
---```lua
---local s <close> = assert(vnet.psock.open("lo", { direction = "in", protocol = "ipv4" }))
---```
---@param link string|integer|table
---@param opts? table
---@return vnet.Device? sock
---@return string? err
---@return integer? errno
function psock.open(link, opts) end

---What the kernel would run for a tcpdump expression, as `tcpdump -d`
---prints it, for link type "eth" (the default) or "raw".
---
---Example:
---```lua
---for _, line in ipairs(assert(vnet.psock.compile("udp port 53"))) do print(line) end
---```
---@param expr string
---@param linktype? "eth"|"raw"
---@return string[]? program
---@return string? err
---@return integer? errno
function psock.compile(expr, linktype) end

---The version of the libpcap vnet compiles filters with.
---@type string
psock.libpcap_version = nil

return psock
