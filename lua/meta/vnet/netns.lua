---@meta vnet.netns

---vnet.netns: network namespaces. create() makes an anonymous namespace
---held by the returned object (it and every device in it go when the
---object is closed or collected and nothing else holds it); create(name)
---makes a named one under /run/netns, alive until ns:delete() or the end
---of the session. ns:run(fn) calls fn inside ns and always returns to the
---namespace it was called from.
---
---Example:
---```lua
---local ns <close> = assert(vnet.netns.create())
---print(ns:exec{ "ip", "-br", "link" })   --> 0  lo  DOWN ...
---```
---@class vnet.netns
local netns = {}

---A new namespace: anonymous without a name, else named (seen by `ip netns
---list`), kept after the session when opts.persist is true.
---
---Example:
---```lua
---local ns <close> = assert(vnet.netns.create())
---local red = assert(vnet.netns.create("red")); red:delete()
---```
---@param name? string
---@param opts? {persist?: boolean}
---@return vnet.Namespace? ns
---@return string? err
---@return integer? errno
function netns.create(name, opts) end

---The namespace the caller is in now.
---
---Example:
---```lua
---print(assert(vnet.netns.current()):id())
---```
---@return vnet.Namespace? ns
---@return string? err
---@return integer? errno
function netns.current() end

---Open an existing namespace: a name in /run/netns, a path with a '/'
---(/proc/1234/ns/net, a bind mount), or an integer pid.
---
---Example:
---```lua
---local self_ns <close> = assert(vnet.netns.open("/proc/self/ns/net"))
---```
---@param what string|integer
---@return vnet.Namespace? ns
---@return string? err
---@return integer? errno
function netns.open(what) end

---The names of the named namespaces (`ip netns list`).
---
---Example:
---```lua
---for _, n in ipairs(vnet.netns.list()) do print(n) end
---```
---@return string[] names
function netns.list() end

---The method table of namespace objects.
---@type table<string, function>
netns.methods = nil

---A network namespace: fields name (nil when anonymous), path (of a named
---one), closed.
---@class vnet.Namespace
---@field name? string
---@field path? string
---@field closed boolean
local Namespace = {}

---Call fn(...) inside the namespace and return what it returns (raises
---what it raises); always back in the caller's namespace afterwards.
---
---Example:
---```lua
---local ns <close> = assert(vnet.netns.create())
---print(ns:run(function() return #assert(vnet.link.list()) end))   --> 1
---```
---@param fn function
---@param ... any
---@return any ...
function Namespace:run(fn, ...) end

---Run a command inside the namespace (fork, setns, exec; no shell): its
---exit status (or 128 + signal) and its output (stdout and stderr, at
---most max_output bytes). Killed after timeout seconds (default 30). In a
---task the loop goes on meanwhile.
---
---Example:
---```lua
---local ns <close> = assert(vnet.netns.create())
---local status, out = ns:exec{ "ip", "link", timeout = 5 }
---```
---@param argv {[integer]: string, timeout?: number, max_output?: integer}
---@return integer? status
---@return string output
---@return integer? errno
function Namespace:exec(argv) end

---Move the calling thread into the namespace for good.
---
---Example:
---```lua
---local ns = assert(vnet.netns.create())
---assert(ns:enter())   -- from here on, this thread works inside ns
---```
---@return true? ok
---@return string? err
---@return integer? errno
function Namespace:enter() end

---The namespace's inode number: equal ids, same namespace.
---
---Example:
---```lua
---local ns <close> = assert(vnet.netns.create()); print(ns:id())
---```
---@return integer id
function Namespace:id() end

---The namespace's file descriptor (for setns in other code).
---
---Example:
---```lua
---local ns <close> = assert(vnet.netns.create()); print(ns:fileno())
---```
---@return integer fd
function Namespace:fileno() end

---Delete: a named namespace is unbound from /run/netns (as `ip netns
---del`); either kind of object is closed.
---
---Example:
---```lua
---local blue = assert(vnet.netns.create("blue")); assert(blue:delete())
---```
---@return true? ok
---@return string? err
---@return integer? errno
function Namespace:delete() end

---Close the object (safe twice): an anonymous namespace ends when nothing
---else holds it. Also `<close>` and garbage collection.
---
---Example:
---```lua
---local ns = assert(vnet.netns.create()); ns:close()
---```
function Namespace:close() end

---Let go of a named namespace the session made: it stays after the
---session.
---
---Example:
---```lua
---local ns = assert(vnet.netns.create("kept")); ns:keep(); ns:delete()
---```
---@return true
function Namespace:keep() end

return netns
