---@meta vnet.route

---vnet.route: the routing table. A route table has family, dst, via, src,
---dev (name), ifindex, table, metric, scope, protocol, type.
---
---Example:
---```lua
---for _, r in ipairs(assert(vnet.route.list())) do print(r.dst, r.via, r.dev) end
---```
---@class vnet.route
local route = {}

---Options of add, del and replace.
---@class vnet.route.Options
---@field dst string "a.b.c.d/len", "v6/len", an address or "default"
---@field via? string the gateway
---@field dev? string|integer|table the link
---@field src? string the preferred source address
---@field table? string|integer "main" (default), "local", "default" or a number
---@field metric? integer lower wins
---@field scope? string|integer "global", "link", "host", "site", "nowhere"
---@field protocol? string|integer "boot" (default), "static", "kernel", ...
---@field type? string "unicast" (default), "local", "blackhole", "unreachable", "prohibit", ...
---@field family? "inet"|"inet6" when dst is "default" and there is no via

---Add a route.
---
---Example:
---```lua
---assert(vnet.route.add{ dst = "192.0.2.0/24", type = "blackhole" })
---```
---@param opts vnet.route.Options
---@return true? ok
---@return string? err
---@return integer? errno
function route.add(opts) end

---Delete the first route that matches.
---
---Example:
---```lua
---vnet.route.add{ dst = "198.51.100.0/24", type = "blackhole" }
---assert(vnet.route.del{ dst = "198.51.100.0/24", type = "blackhole" })
---```
---@param opts vnet.route.Options
---@return true? ok
---@return string? err
---@return integer? errno
function route.del(opts) end

---Add a route, or replace the one there.
---
---Example:
---```lua
---assert(vnet.route.replace{ dst = "203.0.113.0/24", type = "unreachable" })
---```
---@param opts vnet.route.Options
---@return true? ok
---@return string? err
---@return integer? errno
function route.replace(opts) end

---The routes of a table (main unless asked; "all" for every table).
---
---Example:
---```lua
---for _, r in ipairs(assert(vnet.route.list{ family = "inet6", table = "all" })) do print(r.dst) end
---```
---@param opts? {family?: "inet"|"inet6", table?: string|integer}
---@return table[]? routes
---@return string? err
---@return integer? errno
function route.list(opts) end

---The route the kernel would use for an address.
---
---Example:
---```lua
---print(assert(vnet.route.get("127.0.0.1")).dev)   --> lo
---```
---@param address string
---@param opts? {src?: string, dev?: string|integer|table}
---@return table? route
---@return string? err
---@return integer? errno
function route.get(address, opts) end

return route
