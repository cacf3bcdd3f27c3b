---@meta vnet.neigh

---vnet.neigh: the neighbour table (ARP for IPv4, NDP for IPv6), so that
---TAP and macvlan experiments can be wired statically. A neighbour table
---has family, dst, lladdr, dev (name), ifindex, state (a list, as iproute2
---shows it: {"PERMANENT"}), router, proxy.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("n0", "n1"))
---assert(vnet.neigh.add("n0", "10.0.0.2", "02:00:00:00:00:02"))
---```
---@class vnet.neigh
local neigh = {}

---Add a neighbour entry. Options: state ("permanent", the default,
---"reachable", "stale", "noarp", "delay", "probe", "failed",
---"incomplete"), router, proxy.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("na0", "na1"))
---assert(vnet.neigh.add(a, "10.0.0.3", "02:00:00:00:00:03", { state = "reachable" }))
---```
---@param link string|integer|table
---@param address string
---@param lladdr string the MAC address
---@param opts? {state?: string, router?: boolean, proxy?: boolean}
---@return true? ok
---@return string? err
---@return integer? errno
function neigh.add(link, address, lladdr, opts) end

---Add a neighbour entry, or replace the one there.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("nr0", "nr1"))
---assert(vnet.neigh.replace(a, "10.0.0.4", "02:00:00:00:00:04"))
---```
---@param link string|integer|table
---@param address string
---@param lladdr string
---@param opts? {state?: string, router?: boolean, proxy?: boolean}
---@return true? ok
---@return string? err
---@return integer? errno
function neigh.replace(link, address, lladdr, opts) end

---Delete a neighbour entry.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("nd0", "nd1"))
---vnet.neigh.add(a, "10.0.0.5", "02:00:00:00:00:05"); assert(vnet.neigh.del(a, "10.0.0.5"))
---```
---@param link string|integer|table
---@param address string
---@return true? ok
---@return string? err
---@return integer? errno
function neigh.del(link, address) end

---The neighbours of a link (all links when nil). As `ip neigh`, entries
---in state NOARP are left out unless all = true.
---
---Example:
---```lua
---for _, n in ipairs(assert(vnet.neigh.list())) do print(n.dst, n.lladdr, n.state[1]) end
---```
---@param link? string|integer|table
---@param opts? {family?: "inet"|"inet6", all?: boolean}
---@return table[]? neighbours
---@return string? err
---@return integer? errno
function neigh.list(link, opts) end

return neigh
