---@meta vnet.netdevsim

---vnet.netdevsim: simulated network hardware (the kernel's netdevsim
---driver, for testing what tools do with real NICs: ethtool settings,
---offloads, devlink). A device is made on its sysfs bus, not over
---rtnetlink; its ports appear as Ethernet links in the namespace that made
---it. The kernel needs the netdevsim module (`modprobe netdevsim`);
---without it: `nil, "netdevsim.create: this kernel has no 'netdevsim'
---support (...)", 95`.
---
---Example:
---```lua
---local d = assert(vnet.netdevsim.create{ ports = 2, names = { "sim0", "sim1" } })
---print(d.id, d.links[1].name)   --> 1  sim0
---d:delete()
---```
---@class vnet.netdevsim
local netdevsim = {}

---The kind's name, "netdevsim".
---@type string
netdevsim.kind = nil

---The kind's description (vnet._kinds): options, the lane's modules and
---probe (tools/kinds.lua), the sysfs create.
---@type table
netdevsim.descriptor = nil

---Make a simulated device: id (1 to 65535; default the lowest free),
---ports (1 to 64, default 1), queues (1 to 256, default 1), names (new
---names for the ports, in order).
---
---Example:
---```lua
---local d = assert(vnet.netdevsim.create{ id = 7 }); d:delete()
---```
---@param opts? {id?: integer, ports?: integer, queues?: integer, names?: string[]}
---@return vnet.NetdevsimDevice? dev
---@return string? err
---@return integer? errno
function netdevsim.create(opts) end

---A netdevsim device: fields id, links (its ports as vnet.Link objects).
---@class vnet.NetdevsimDevice
---@field id integer
---@field links vnet.Link[]
local NetdevsimDevice = {}

---Remove the device and its ports.
---
---Example:
---```lua
---local d = assert(vnet.netdevsim.create()); assert(d:delete())
---```
---@return true? ok
---@return string? err
---@return integer? errno
function NetdevsimDevice:delete() end

---The same as delete (also what `<close>` does).
---
---Example:
---```lua
---local d <close> = assert(vnet.netdevsim.create())
---```
---@return true? ok
---@return string? err
---@return integer? errno
function NetdevsimDevice:close() end

return netdevsim
