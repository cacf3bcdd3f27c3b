---@meta vnet.topo

---vnet.topo: a network described as one Lua table (nodes, links, tc,
---routes; docs/topology.md describes every field), built, checked,
---changed and torn down as a whole. The description is checked whole
---before anything is made; an error names where it is (`topo.apply:
---links[3].b: node 'h9' is not defined`). apply makes only what differs
---from what is live.
---
---Example:
---```lua
---local net <close> = assert(vnet.topo.apply {
---  name = "lab",
---  nodes = { h1 = {}, h2 = {} },
---  links = { { a = { node = "h1", addr = "10.0.1.1/24" }, b = { node = "h2", addr = "10.0.1.2/24" } } },
---})
---print(net.h1:ping(net.h2))
---```
---@class vnet.topo
local topo = {}

---Check a description: true, or raise naming what is wrong and where.
---
---Example:
---```lua
---assert(vnet.topo.check{ name = "t", nodes = { a = {} } })
---```
---@param desc table
---@return true
function topo.check(desc) end

---Run a file that returns a description, and return it.
---
---Example:
---```lua
---local path = "topo.lua"
---io.open(path, "w"):write("return { name = 'f', nodes = { a = {} } }"):close()
---print(vnet.topo.load(path).name)   --> f
---```
---@param path string
---@return table desc
function topo.load(path) end

---Build what is not live yet of a description (or a file of one): the
---topology and the changes made. The same table twice changes nothing.
---
---Example:
---```lua
---local net <close> = assert(vnet.topo.apply{ name = "one", nodes = { a = {} } })
---```
---@param desc table|string
---@return vnet.Topology? topology
---@return table|string changes
---@return integer? errno
function topo.apply(desc) end

---What apply would change, as data and as text (one line per change:
---"+ link h1:h1-eth0 veth to r1:r1-eth0").
---
---Example:
---```lua
---local changes, text = vnet.topo.diff{ name = "d", nodes = { a = {} } }
---print(text)
---```
---@param desc table
---@return table changes
---@return string text
function topo.diff(desc) end

---Delete a topology's namespaces (by name or description); what was in
---them goes with them.
---
---Example:
---```lua
---assert(vnet.topo.apply{ name = "gone", nodes = { a = {} } })
---assert(vnet.topo.destroy("gone"))
---```
---@param what string|table
---@return true? ok
---@return string? err
---@return integer? errno
function topo.destroy(what) end

---The method table of topology objects.
---@type table<string, function>
topo.methods = nil

---The method table of node objects.
---@type table<string, function>
topo.node_methods = nil

---A live topology (topo.apply): its nodes are fields (`net.h1`) and in
---`net.nodes`. `<close>` destroys it.
---@class vnet.Topology
---@field name string
---@field nodes table<string, vnet.Node>
local Topology = {}

---Make only what differs from what is live: the changes.
---
---Example:
---```lua
---local net <close> = assert(vnet.topo.apply{ name = "grow", nodes = { a = {} } })
---assert(net:apply{ name = "grow", nodes = { a = {}, b = {} } })
---```
---@param desc table
---@return table|nil changes
---@return string? err
---@return integer? errno
function Topology:apply(desc) end

---What apply(desc) would change: changes, text.
---
---Example:
---```lua
---local net <close> = assert(vnet.topo.apply{ name = "df", nodes = { a = {} } })
---print(select(2, net:diff{ name = "df", nodes = { a = {}, b = {} } }))
---```
---@param desc table
---@return table changes
---@return string text
function Topology:diff(desc) end

---Delete the topology's namespaces and everything in them.
---
---Example:
---```lua
---local net = assert(vnet.topo.apply{ name = "del", nodes = { a = {} } }); assert(net:destroy())
---```
---@return true? ok
---@return string? err
---@return integer? errno
function Topology:destroy() end

---The node of that name, or nil.
---
---Example:
---```lua
---local net <close> = assert(vnet.topo.apply{ name = "nd", nodes = { a = {} } }); print(net:node("a").name)
---```
---@param name string
---@return vnet.Node? node
function Topology:node(name) end

---Ping every ordered pair of nodes at once (one raw ICMP socket per node):
---a result with sent, received, lost, matrix[src][dst] = rtt ms | false,
---and text; tostring(result) is the matrix as Mininet prints it. Options:
---nodes, timeout (1 s), tries (3), window (32).
---
---Example:
---```lua
---local net <close> = assert(vnet.topo.apply{ name = "pa", nodes = { a = {}, b = {} },
---  links = { { a = { node = "a", addr = "10.3.0.1/24" }, b = { node = "b", addr = "10.3.0.2/24" } } } })
---print(net:pingall())
---```
---@param opts? {nodes?: string[], timeout?: number, tries?: integer, window?: integer}
---@return table result
function Topology:pingall(opts) end

---Text: nodes, interfaces, addresses, qdiscs, routes, as they are live.
---
---Example:
---```lua
---local net <close> = assert(vnet.topo.apply{ name = "sm", nodes = { a = {} } }); print(net:summary())
---```
---@return string
function Topology:summary() end

---The summary as JSON text.
---
---Example:
---```lua
---local net <close> = assert(vnet.topo.apply{ name = "js", nodes = { a = {} } }); print(net:json())
---```
---@return string
function Topology:json() end

---Graphviz DOT text: nodes, links labelled with interface names and
---qdiscs, tunnels dashed.
---
---Example:
---```lua
---local net <close> = assert(vnet.topo.apply{ name = "dt", nodes = { a = {} } }); print(net:dot())
---```
---@return string
function Topology:dot() end

---Draw it as SVG or PNG (by the path's suffix) with Graphviz's dot, when
---installed.
---
---Example:
---```lua
---local net <close> = assert(vnet.topo.apply{ name = "pic", nodes = { a = {} } })
---print(net:picture("lab.svg"))
---```
---@param path string ending in .svg or .png
---@return true? ok
---@return string? err
---@return integer? errno
function Topology:picture(path) end

---A node of a topology: fields name, kind ("host", "router", "switch"),
---netns (its vnet.Namespace).
---@class vnet.Node
---@field name string
---@field kind string
---@field netns vnet.Namespace
local Node = {}

---Run a command in the node's namespace (no shell): status, output.
---
---Example:
---```lua
---local net <close> = assert(vnet.topo.apply{ name = "ex", nodes = { a = {} } })
---print(net.a:exec{ "ip", "-br", "addr" })
---```
---@param argv string[]
---@return integer? status
---@return string output
---@return integer? errno
function Node:exec(argv) end

---Call fn(...) inside the node's namespace.
---
---Example:
---```lua
---local net <close> = assert(vnet.topo.apply{ name = "rn", nodes = { a = {} } })
---print(net.a:run(function() return #assert(vnet.link.list()) end))
---```
---@param fn function
---@param ... any
---@return any ...
function Node:run(fn, ...) end

---A link object of the node, by name.
---
---Example:
---```lua
---local net <close> = assert(vnet.topo.apply{ name = "lk", nodes = { a = {} } })
---print(assert(net.a:link("lo")).ifindex)   --> 1
---```
---@param name string
---@return vnet.Link? link
---@return string? err
---@return integer? errno
function Node:link(name) end

---Open a TUN or TAP device inside the node.
---
---Example:
---```lua
---local net <close> = assert(vnet.topo.apply{ name = "op", nodes = { a = {} } })
---local dev <close> = assert(net.a:open("tun", { name = "tun0" }))
---```
---@param kind "tun"|"tap"
---@param opts? vnet.tun.Options
---@return vnet.Device? dev
---@return string? err
---@return integer? errno
function Node:open(kind, opts) end

---The node's addresses, as described: `{ "10.0.1.2", ... }`.
---
---Example:
---```lua
---local net <close> = assert(vnet.topo.apply{ name = "ad", nodes = { a = {} } }); print(#net.a:addrs())
---```
---@return string[] addrs
function Node:addrs() end

---Ping another node (a node, its name, or an address): true, rtt_ms or
---false, msg. Options: count, timeout.
---
---Example:
---```lua
---local net <close> = assert(vnet.topo.apply{ name = "pg", nodes = { a = {}, b = {} },
---  links = { { a = { node = "a", addr = "10.4.0.1/24" }, b = { node = "b", addr = "10.4.0.2/24" } } } })
---print(net.a:ping("b"))
---```
---@param other vnet.Node|string
---@param opts? {count?: integer, timeout?: number}
---@return boolean ok
---@return number|string rtt_or_msg
function Node:ping(other, opts) end

return topo
