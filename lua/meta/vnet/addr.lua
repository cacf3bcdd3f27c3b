---@meta vnet.addr

---vnet.addr: IPv4 and IPv6 addresses of links. A link is a name, an
---ifindex or an object with ifindex. An address without /len is a host
---address (/32, /128). An address table has family, address, prefixlen,
---cidr, peer, broadcast, scope, label, flags, valid_lft, preferred_lft,
---ifindex.
---
---Example:
---```lua
---assert(vnet.addr.add("lo", "127.0.0.5/8"))
---for _, a in ipairs(assert(vnet.addr.list("lo"))) do print(a.cidr, a.scope) end
---```
---@class vnet.addr
local addr = {}

---Options of add and del.
---@class vnet.addr.Options
---@field peer? string the other end of a point-to-point address
---@field broadcast? string an address, or "+" for the prefix's highest (IPv4)
---@field scope? string|integer "global", "site", "link", "host"
---@field label? string an IPv4 label: the link's name or "name:x"
---@field nodad? boolean
---@field noprefixroute? boolean
---@field valid_lft? integer seconds
---@field preferred_lft? integer seconds
---@field replace? boolean replace an existing address (add only)

---Add an address to a link.
---
---Example:
---```lua
---assert(vnet.addr.add("lo", "127.0.0.6/8", { label = "lo:x" }))
---```
---@param link string|integer|table
---@param cidr string
---@param opts? vnet.addr.Options
---@return true? ok
---@return string? err
---@return integer? errno
function addr.add(link, cidr, opts) end

---Remove an address from a link.
---
---Example:
---```lua
---vnet.addr.add("lo", "127.0.0.7/8"); assert(vnet.addr.del("lo", "127.0.0.7/8"))
---```
---@param link string|integer|table
---@param cidr string
---@param opts? vnet.addr.Options
---@return true? ok
---@return string? err
---@return integer? errno
function addr.del(link, cidr, opts) end

---The addresses of a link (all links when link is nil), filtered by
---family and scope.
---
---Example:
---```lua
---for _, a in ipairs(assert(vnet.addr.list(nil, { family = "inet" }))) do print(a.cidr) end
---```
---@param link? string|integer|table
---@param opts? {family?: "inet"|"inet6", scope?: string}
---@return table[]? addrs
---@return string? err
---@return integer? errno
function addr.list(link, opts) end

---Remove a link's addresses (those matching the filter): how many went.
---IPv6 link-local addresses stay unless scope = "link" asks for them.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("f0", "f1")); a:addr_add("10.5.0.1/24")
---print(vnet.addr.flush("f0", { family = "inet" }))   --> 1
---```
---@param link string|integer|table
---@param opts? {family?: "inet"|"inet6", scope?: string}
---@return integer? removed
---@return string? err
---@return integer? errno
function addr.flush(link, opts) end

return addr
