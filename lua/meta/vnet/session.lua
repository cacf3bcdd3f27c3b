---@meta vnet.session

---vnet.session: what this session made, and its undoing. A session is one
---run of the vnet host (a script, or the REPL until it is left), or the
---life of a stock-Lua process that did `require "vnet"`. Everything it
---makes (links, named namespaces, addresses, routes, neighbours) and every
---change to a link it did not make is journaled and undone newest first
---when the session ends (exit, error, SIGINT/TERM/HUP); a guardian process
---undoes links and named namespaces after a SIGKILL or crash.
---
---Example:
---```lua
---for _, e in ipairs(vnet.session.list()) do print(e.id, e.kind, e.name, e.undo) end
---```
---@class vnet.session
local session = {}

---What the session owns, oldest first: `{ {id, kind, type, name, netns,
---undo}, ... }`.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("j0", "j1")); print(#vnet.session.list())
---```
---@return table[] entries
function session.list() end

---Undo now (the session goes on): everything, the newest n entries, or
---the entries whose ids are listed.
---
---Example:
---```lua
---assert(vnet.veth.create("u0", "u1")); assert(vnet.session.undo(1))
---```
---@param what? integer|integer[]
---@return true? ok
---@return string? err
---@return integer? errno
function session.undo(what) end

---Call fn(...); if it raises, what the session made while it ran is
---undone and the error goes on.
---
---Example:
---```lua
---pcall(vnet.session.transaction, function() assert(vnet.veth.create("tx0", "tx1")); error("no") end)
---print(vnet.link.get("tx0"))   --> nil  link.get tx0: No such device ...
---```
---@param fn function
---@param ... any
---@return any ...
function session.transaction(fn, ...) end

---Configure the machine for good: nothing made or changed (before or
---after) is undone (`vnet --keep`).
---
---Example:
---```lua
---vnet.session.keep()
---```
---@return true
function session.keep() end

---True when the session keeps everything.
---
---Example:
---```lua
---print(vnet.session.keeping())   --> false
---```
---@return boolean
function session.keeping() end

---Let go of something made (a link or named namespace): it stays when the
---session ends. The same as `l:keep()` and `ns:keep()`.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("rl0", "rl1")); vnet.session.release(a); a:delete()
---```
---@param obj vnet.Link|vnet.Namespace
---@return true
function session.release(obj) end

---Undo a link now (one the session did not make: what the session
---changed on it). The same as `l:close()`.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("cx0", "cx1")); assert(vnet.session.close(a))
---```
---@param l vnet.Link
---@return true? ok
---@return string? err
---@return integer? errno
function session.close(l) end

---The guardian's pid, or nil before the session made anything it would
---have to undo after a SIGKILL.
---
---Example:
---```lua
---print(vnet.session.guardian())
---```
---@return integer? pid
function session.guardian() end

---End the session now, undoing what it owns (the host does this on every
---ending; safe twice).
---
---Example:
---```lua
---assert(vnet.session.finish())
---```
---@return true? ok
---@return string? err
---@return integer? errno
function session.finish() end

---Hook: a to-be-closed value; until it is closed, SIGINT/TERM/HUP wait,
---so that what is being made gets journaled.
---
---Example:
---```lua
---do local held <close> = vnet.session.hold() end
---```
---@return any held
function session.hold() end

---Hook: the device group for a link being made (nil when it is to
---persist or the session keeps everything).
---
---Example:
---```lua
---print(vnet.session.group(false))
---```
---@param persist? boolean
---@return integer? group
function session.group(persist) end

---Hook: journal a link the session made (mate: the other end of a veth,
---let go of together).
---
---Example:
---```lua
---local l = assert(vnet.link.create{ kind = "veth", name = "ol0", peer = "ol1" })
---vnet.session.own_link(l)
---```
---@param l vnet.Link
---@param persist? boolean
---@param mate? vnet.Link
---@return vnet.Link l
function session.own_link(l, persist, mate) end

---Hook: a link was deleted; its entry (and those on it) go.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("fg0", "fg1")); vnet.session.forget(a)
---```
---@param l vnet.Link
---@param ino? integer the namespace's inode
function session.forget(l, ino) end

---Hook: record a change made in the current namespace (an address, a
---route...) and the record that undoes it (lua/vnet/_undo.lua writes it;
---the host applies it in-process and, after a SIGKILL, the guardian does).
---rtype may be a function instead: an undo only this process can do.
---
---Example:
---```lua fragment
---session.own("addr", "10.0.0.1/24", 7, "addr.del veth0 10.0.0.1/24", rtype, body)
---```
---@param kind string
---@param name string
---@param ifindex integer
---@param what string
---@param rtype string|function the undo record's type, or an undo function
---@param body? string the undo record's body
---@param to? vnet.Namespace an M record's namespace object
---@param ns? vnet.Namespace the current namespace's object, if it has one
function session.own(kind, name, ifindex, what, rtype, body, to, ns) end

---Hook: an address was added (cidr on link idx, named name): journal its
---removal.
---
---Example:
---```lua fragment
---session.own_addr("10.0.0.1/24", l.ifindex, l.name)
---```
---@param cidr string
---@param idx integer
---@param name string
function session.own_addr(cidr, idx, name) end

---Hook: a route was added (s: the route as route.add sent it, name: how
---errors name it): journal its removal.
---
---Example:
---```lua fragment
---session.own_route(spec, "10.1.0.0/16")
---```
---@param s table
---@param name string
function session.own_route(s, name) end

---Hook: a neighbour (or proxy entry) was added: journal its removal.
---
---Example:
---```lua fragment
---session.own_neigh("10.0.0.2", l.ifindex, l.name, false)
---```
---@param dst string
---@param idx integer
---@param name string
---@param proxy? boolean
function session.own_neigh(dst, idx, name, proxy) end

---Hook: before bridge port options change on a port the session did not
---make: journal the options as they are now (desc: the kind's port
---options), to set them back.
---
---Example:
---```lua fragment
---session.changing_port(l, l.ifindex, l.name, { learning = false }, desc)
---```
---@param obj table
---@param idx integer
---@param name string
---@param o table
---@param desc table
function session.changing_port(obj, idx, name, o, desc) end

---Hook: before link.set changes a link; one the session did not make gets
---an entry that sets it back.
---
---Example:
---```lua fragment
---session.changing(l, l.ifindex, l.name, { mtu = 1400 })
---```
---@param obj table
---@param ifindex integer
---@param name string
---@param opts table
function session.changing(obj, ifindex, name, opts) end

---Hook: after link.set read obj back; an owned link that was renamed or
---moved is journaled again under its new name and place.
---
---Example:
---```lua fragment
---session.changed(l, target, newname)
---```
---@param obj table
---@param target? vnet.Namespace the namespace it moved into
---@param newname? string its name there
function session.changed(obj, target, newname) end

---Hook: journal a named namespace made now.
---
---Example:
---```lua fragment
---session.own_netns(ns, { persist = false })
---```
---@param ns vnet.Namespace
---@param opts? table
---@param ... any
---@return vnet.Namespace ns
function session.own_netns(ns, opts, ...) end

---Hook: an anonymous namespace the session made was closed; what was made
---in it went with it.
---
---Example:
---```lua fragment
---session.forget_inside(ns:id())
---```
---@param ino integer
function session.forget_inside(ino) end

---Hook: a named namespace was deleted (or let go).
---
---Example:
---```lua fragment
---session.forget_netns(ns)
---```
---@param ns vnet.Namespace
function session.forget_netns(ns) end

return session
