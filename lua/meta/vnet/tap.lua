---@meta vnet.tap

---vnet.tap: TAP devices (layer 2: Ethernet frames), with the API of
---vnet.tun; the option filter (a tcpdump expression the kernel applies)
---is for TAP devices only.
---
---Example:
---```lua
---local dev <close> = assert(vnet.tap.open{ name = "tap-demo" })
---dev:on_packet(function(frame) print(frame:eth().src) end)
---```
---@class vnet.tap
local tap = {}

---Open (create, or attach to a persistent) TAP device; options as
---vnet.tun.open, plus filter.
---
---Example:
---```lua
---local dev <close> = assert(vnet.tap.open{ name = "tap%d", filter = "arp" })
---```
---@param opts? vnet.tun.Options|string options, or just the name
---@return vnet.Device? dev
---@return string? err
---@return integer? errno
function tap.open(opts) end

---Remove a persistent TAP device that no process holds open.
---
---Example:
---```lua
---assert(vnet.tap.open{ name = "ptap0", persist = true }):close()
---assert(vnet.tap.delete("ptap0"))
---```
---@param name string
---@return true? ok
---@return string? err
---@return integer? errno
function tap.delete(name) end

---The IFF_* flags this kernel's tun driver supports (as tun.features).
---
---Example:
---```lua
---print(assert(vnet.tap.features()))
---```
---@return integer? flags
---@return string? err
---@return integer? errno
function tap.features() end

---How the loop reads and writes TUN/TAP devices (as tun.io_batching: one
---switch for both).
---
---Example:
---```lua
---print(vnet.tap.io_batching())   -- e.g. io_uring nil 0 0
---```
---@param on? boolean
---@return string mode "io_uring" or "read/write"
---@return string? reason
---@return integer calls
---@return integer ops
function tap.io_batching(on) end

return tap
