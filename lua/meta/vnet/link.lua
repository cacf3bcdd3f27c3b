---@meta vnet.link

---vnet.link: every link (network interface), through rtnetlink. A link is
---named by its name ("tun0"), its ifindex (7), or any object with
---name/ifindex fields (a link object, a vnet.tun device). System failures
---return `nil, "op name: reason (kernel's words)", errno`; misuse raises.
---
---Example:
---```lua
---for _, l in ipairs(assert(vnet.link.list())) do print(l.name, l.kind, l.up) end
---```
---@class vnet.link
local link = {}

---The options of link.create that every kind takes; each kind adds its own
---(see vnet.<kind>).
---@class vnet.link.Options
---@field name string the new link's name (at most 15 bytes)
---@field kind? string "veth", "macvlan", ... (kind modules fill it in)
---@field mtu? integer
---@field address? string MAC address
---@field txqueuelen? integer
---@field up? boolean
---@field link? string|integer|table the parent (IFLA_LINK)
---@field master? string|integer|table a bridge, bond or vrf
---@field netns? vnet.Namespace|string|integer create it straight in there
---@field numtxqueues? integer
---@field numrxqueues? integer

---True when v is a link object.
---
---Example:
---```lua
---print(vnet.link.is(assert(vnet.link.get("lo"))))   --> true
---```
---@param v any
---@return boolean
function link.is(v) end

---The ifindex of a link.
---
---Example:
---```lua
---print(vnet.link.index("lo"))   --> 1
---```
---@param name string|integer|table
---@return integer? ifindex
---@return string? err
---@return integer? errno
function link.index(name) end

---The link as the kernel reports it now, in the current namespace.
---
---Example:
---```lua
---local l = assert(vnet.link.get("lo")); print(l.mtu, l.up)
---```
---@param name string|integer|table
---@return vnet.Link? link
---@return string? err
---@return integer? errno
function link.get(name) end

---Every link, by ifindex: a consistent snapshot (an interrupted dump is
---asked for again).
---
---Example:
---```lua
---for _, l in ipairs(assert(vnet.link.list())) do print(l.ifindex, l.name) end
---```
---@return vnet.Link[]? links
---@return string? err
---@return integer? errno
function link.list() end

---Create a link of any kind: the generic options plus the kind's own. A
---kind this kernel lacks: `nil, "link.create x: this kernel has no 'K'
---support (Unknown device type)", 95`. The session undoes it at its end
---unless kept (vnet.session).
---
---Example:
---```lua
---local l = assert(vnet.link.create{ kind = "veth", name = "v0", peer = "v1" })
---```
---@param opts vnet.link.Options
---@return vnet.Link? link
---@return string? err
---@return integer? errno
function link.create(opts) end

---Create many links, of any kinds, in one batch: a few sends, the
---kernel's echo instead of a read-back each, a veth's peer made straight
---in its namespace. All or none: when request k fails, what the batch made
---is deleted and the error names k (`"link.create_many b (request 2 of
---2): File exists"`, 17, 2). Every kind module has its own create_many
---(veth.create_many returns both ends' lists).
---
---Example:
---```lua
---local ls = assert(vnet.link.create_many{
---  { kind = "bridge", name = "br0" }, { kind = "veth", name = "v0", peer = "v1" } })
---print(#ls, ls[1].name, ls[2].name)   --> 2  br0  v0
---```
---@param list vnet.link.Options[]
---@return vnet.Link[]? links
---@return string? err
---@return integer? errno
---@return integer? k the request that failed
function link.create_many(list) end

---Change a link: up, mtu, address, name, master, nomaster, txqueuelen,
---netns (moves it: an ns object, a named namespace or a pid).
---
---Example:
---```lua
---assert(vnet.link.set("lo", { up = true }))
---```
---@param l string|integer|table the link
---@param opts table
---@return true? ok
---@return string? err
---@return integer? errno
function link.set(l, opts) end

---Delete a link (a veth takes its peer with it).
---
---Example:
---```lua
---assert(vnet.veth.create("d0", "d1")); assert(vnet.link.delete("d0"))
---```
---@param l string|integer|table
---@return true? ok
---@return string? err
---@return integer? errno
function link.delete(l) end

---The link's current MTU.
---
---Example:
---```lua
---print(vnet.link.mtu("lo"))   --> 65536
---```
---@param l string|integer|table
---@return integer? mtu
---@return string? err
---@return integer? errno
function link.mtu(l) end

---Add an address, as vnet.addr.add ("link.addr_add" in errors). Without
---/len it is a host address.
---
---Example:
---```lua
---assert(vnet.link.addr_add("lo", "127.0.0.9/8"))
---```
---@param l string|integer|table
---@param cidr string
---@param opts? table
---@return true? ok
---@return string? err
---@return integer? errno
function link.addr_add(l, cidr, opts) end

---Remove an address, as vnet.addr.del.
---
---Example:
---```lua
---vnet.link.addr_add("lo", "127.0.0.9/8"); assert(vnet.link.addr_del("lo", "127.0.0.9/8"))
---```
---@param l string|integer|table
---@param cidr string
---@param opts? table
---@return true? ok
---@return string? err
---@return integer? errno
function link.addr_del(l, cidr, opts) end

---The addresses of one link, or of all when l is nil: tables with family,
---address, prefixlen, cidr, peer, broadcast, scope, label, flags, ifindex.
---
---Example:
---```lua
---for _, a in ipairs(assert(vnet.link.addrs("lo"))) do print(a.cidr) end
---```
---@param l? string|integer|table
---@return table[]? addrs
---@return string? err
---@return integer? errno
function link.addrs(l) end

---Watch link (and address) events: vnet.watch.links.
---
---Example:
---```lua
---local w = assert(vnet.link.watch(function(ev) print(ev.type, ev.action, ev.name) end))
---w:stop()
---```
---@param fn fun(ev: table, w: vnet.Watch)
---@param opts? {netns?: any, groups?: string[], rcvbuf?: integer}
---@return vnet.Watch? watch
---@return string? err
---@return integer? errno
function link.watch(fn, opts) end

---The method table of link objects (the kinds add theirs: vnet.bridge.Link...).
---@type table<string, function>
link.methods = nil

---A link object: name, ifindex, kind, mtu, flags (a list), up, address,
---broadcast, operstate, master and parent (ifindexes), netns_id,
---txqueuelen, link_type, min_mtu, max_mtu, carrier, promiscuity, the kind's
---own options (`l.mode` of a macvlan, also in `l.info`) and a bridge
---port's options in `l.port`. It remembers its namespace (`l.netns`).
---`<close>` undoes it (l:close()).
---@class vnet.Link
---@field name string
---@field ifindex integer
---@field kind? string
---@field mtu integer
---@field up boolean
---@field flags string[] "UP", "BROADCAST", ...
---@field address? string
---@field info table the kind's options, read back
---@field port? table a bridge or bond port's options
local Link = {}

---Change the link: as link.set, plus the options of its kind that can
---change (a macvlan's mode, a bridge's stp...). Read back afterwards.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("s0", "s1"))
---assert(a:set{ up = true, mtu = 1400 })
---```
---@param opts table
---@return true? ok
---@return string? err
---@return integer? errno
function Link:set(opts) end

---Read the link again from the kernel.
---
---Example:
---```lua
---local l = assert(vnet.link.get("lo")); assert(l:refresh())
---```
---@return vnet.Link? self
---@return string? err
---@return integer? errno
function Link:refresh() end

---Counters: rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors,
---tx_errors, rx_dropped, tx_dropped, multicast, collisions.
---
---Example:
---```lua
---print(assert(assert(vnet.link.get("lo")):stats()).rx_packets)
---```
---@return table? stats
---@return string? err
---@return integer? errno
function Link:stats() end

---Delete the link (a veth takes its peer with it).
---
---Example:
---```lua
---local a = assert(vnet.veth.create("x0", "x1")); assert(a:delete())
---```
---@return true? ok
---@return string? err
---@return integer? errno
function Link:delete() end

---Undo it now: a link this session made is deleted; one it did not make
---gets back what the session changed on it. Also the `<close>` of
---`local l <close> = vnet.veth.create(...)`.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("c0", "c1")); assert(a:close())
---```
---@return true? ok
---@return string? err
---@return integer? errno
function Link:close() end

---Let go of a link the session made (and of what it did on it): it stays
---when the session ends.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("k0", "k1")); a:keep(); a:delete()
---```
---@return true
function Link:keep() end

---The other end of a veth (or the parent of a macvlan, vlan...), from
---IFLA_LINK, in whatever namespace it is.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("p0", "p1")); print(assert(a:peer()).name)   --> p1
---```
---@return vnet.Link? peer
---@return string? err
---@return integer? errno
function Link:peer() end

---The link's addresses (see link.addrs).
---
---Example:
---```lua
---for _, a in ipairs(assert(assert(vnet.link.get("lo")):addrs())) do print(a.cidr) end
---```
---@param opts? table
---@return table[]? addrs
---@return string? err
---@return integer? errno
function Link:addrs(opts) end

---Add an address to the link (see vnet.addr.add).
---
---Example:
---```lua
---local a = assert(vnet.veth.create("q0", "q1")); assert(a:addr_add("10.7.0.1/24"))
---```
---@param cidr string
---@param opts? table
---@return true? ok
---@return string? err
---@return integer? errno
function Link:addr_add(cidr, opts) end

---Remove an address of the link.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("r0", "r1")); a:addr_add("10.7.0.1/24"); assert(a:addr_del("10.7.0.1/24"))
---```
---@param cidr string
---@param opts? table
---@return true? ok
---@return string? err
---@return integer? errno
function Link:addr_del(cidr, opts) end

return link
