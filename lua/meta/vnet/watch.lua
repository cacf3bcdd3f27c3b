---@meta vnet.watch

---vnet.watch: the kernel's link, address, route and neighbour events,
---delivered through vnet.loop. Events are tables: {type = "link", action
---= "add"|"change"|"delete", name, ifindex, link}, {type = "addr", ...,
---addr}, {type = "route", route}, {type = "neigh", neigh}, and {type =
---"resync", links, addrs, added, removed} after the kernel dropped events
---(ENOBUFS): the tables as they now are.
---
---Example:
---```lua
---local w = assert(vnet.watch.links(function(ev) print(ev.type, ev.action, ev.name) end))
---w:stop()
---```
---@class vnet.watch
local watch = {}

---Watch events: fn(ev, w) from the loop. Options: groups (default {"link",
---"addr"}; also "route", "neigh"), netns (watch another namespace),
---rcvbuf (the socket buffer in bytes).
---
---Example:
---```lua
---local w = assert(vnet.watch.links(function(ev) print(ev.type) end, { groups = { "link", "route" } }))
---w:stop()
---```
---@param fn fun(ev: table, w: vnet.Watch)
---@param opts? {groups?: string[], netns?: any, rcvbuf?: integer}
---@return vnet.Watch? watch
---@return string? err
---@return integer? errno
function watch.links(fn, opts) end

---A running watch (vnet.watch.links, vnet.link.watch): field retries
---(resync attempts).
---@class vnet.Watch
---@field retries integer
local Watch = {}

---The names of the links the watch knows of now, sorted: its picture of
---the namespace, kept by the events and resyncs.
---
---Example:
---```lua
---local w = assert(vnet.watch.links(function() end)); print(table.concat(w:names(), " ")); w:stop()
---```
---@return string[] names
function Watch:names() end

---No more events; closes the socket (safe twice).
---
---Example:
---```lua
---local w = assert(vnet.watch.links(function() end)); w:stop()
---```
function Watch:stop() end

---The event socket's fd (for another event loop).
---
---Example:
---```lua
---local w = assert(vnet.watch.links(function() end)); print(w:fileno()); w:stop()
---```
---@return integer fd
function Watch:fileno() end

---The event socket's fd, for cqueues' polling protocol. The events still
---come through vnet.loop.
---
---Example:
---```lua
---local w = assert(vnet.watch.links(function() end)); print(w:pollfd() == w:fileno()); w:stop()
---```
---@return integer fd
function Watch:pollfd() end

---"r" (cqueues' polling protocol).
---
---Example:
---```lua
---local w = assert(vnet.watch.links(function() end)); print(w:events()); w:stop()
---```
---@return string events
function Watch:events() end

---nil: no timeout of its own (cqueues' polling protocol).
---
---Example:
---```lua
---local w = assert(vnet.watch.links(function() end)); print(w:timeout()); w:stop()
---```
---@return nil
function Watch:timeout() end

return watch
