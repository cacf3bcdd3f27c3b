---@meta vnet.show

---vnet.show: links, addresses, routes, neighbours and namespaces as a
---person reads them (`ip -br` columns, `ip route` lines) and as a program
---does (JSON shaped like `ip -j`). The lists that link.list(), addr.list(),
---route.list(), neigh.list() and netns.list() return are arrays whose
---tostring is that text; each element's tostring is its one line.
---
---Example:
---```lua
---print(vnet.link.list())
---print(vnet.json(vnet.addr.list()))
---```
---@class vnet.show
local show = {}

---x as `ip -j` shows it (a table: ifname, operstate, addr_info[].local,
---gateway, prefsrc...; no internal fields), or x itself for other values.
---
---Example:
---```lua
---local lo = vnet.show.ip(assert(vnet.link.get("lo")))
---print(lo.ifname, lo.operstate)   --> lo  UNKNOWN
---```
---@param x any
---@return any
function show.ip(x) end

---JSON text: vnet objects and lists in `ip -j` shape, other tables as
---they are (keys starting with "_" left out). vnet.json is this function.
---
---Example:
---```lua
---print(vnet.show.json(assert(vnet.route.list())))
---```
---@param x any
---@return string json
function show.json(x) end

---x as text: `ip -br`-style for vnet objects and lists, tostring for
---anything else.
---
---Example:
---```lua
---print(vnet.show.text(assert(vnet.link.get("lo"))))
---```
---@param x any
---@return string
function show.text(x) end

---Give x the metatable of `name` ("vnet.route.list"...), and each element
---that of `each`; remember the namespace it was read in (its ifindexes
---mean something there only). What the list functions use.
---
---Example:
---```lua
---local l = vnet.show.mark("vnet.link.list", { assert(vnet.link.get("lo")) }, "vnet.link")
---print(l)
---```
---@param name string
---@param x table
---@param each? string
---@return table x
function show.mark(name, x, each) end

---One link as its `ip -br link` line.
---
---Example:
---```lua
---print(vnet.show.link_text(assert(vnet.link.get("lo"))))
---```
---@param l vnet.Link
---@return string
function show.link_text(l) end

---Encodes as JSON null (as `ip -j` shows a set flag: "router": null).
---@type table
show.null = nil

---A metatable that makes an empty table encode as [] (not {}).
---@type table
show.array = nil

return show
