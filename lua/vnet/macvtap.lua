--- vnet.macvtap: a macvlan whose frames go to a file instead of the
-- network stack: /dev/tap<ifindex>, opened with `:open()`.
--
--    local mt = assert(vnet.macvtap.create{ name = "mvt0", link = "eth0",
--                                            mode = "bridge", up = true })
--    local dev <close> = assert(mt:open())       -- /dev/tapN, N = mt.ifindex
--    dev:on_packet(function(frame, dev) print(#frame, frame:hex()) end)
--    dev:write(frame)                            -- out through the parent
--
-- The options are macvlan's (mode, nopromisc, nodst, bc_queue_len,
-- source_addresses; see vnet.macvlan). `l:open([{vnet_hdr = false}])`
-- returns a packet device with the API of a TAP (read, write, on_packet,
-- fileno, close); with vnet_hdr = true each frame carries a virtio-net
-- header first, as for a TAP opened with vnet_hdr. Closing it leaves the
-- link; l:delete() removes the link.
local kinds = require "vnet._kinds"
local macvlan = require "vnet.macvlan"
local opts = require "vnet._opts"
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
local core = require "vnet.macvtap.core"
require "vnet.dev" -- the packet device's Lua methods (on_packet, ...)

--- Open the link's character device (for macvtap and ipvtap links).
-- l:open([{vnet_hdr = bool}]) -> device | nil, msg, errno
local function open(l, o)
  local link = require "vnet.link"
  if not link.is(l) then
    raise(string.format("macvtap.open: expected a macvtap or ipvtap link object " ..
      "(from vnet.macvtap.create or vnet.link.get; got %s)", type(l)))
  end
  local op = (l.kind or "macvtap") .. ".open"
  o = opts.check(op, o, { vnet_hdr = "boolean" })
  return link._within(l, op, core.open, l.ifindex, l.name, op, o.vnet_hdr)
end

--- macvtap.create{name =, link =, mode =, ...} -> link | nil, msg, errno
return kinds.define {
  lane = { modules = { "macvtap" }, probe = "link kp-parent0 type macvtap mode bridge" },
  kind = "macvtap", parent = "required", options = macvlan.options,
  example = { link = "p0", mode = "vepa" },
  check = macvlan.check, finish = macvlan.finish, hints = macvlan.hints,
  methods = { open = open },
  module = {
    open = open,
    --- The modes, macvlan's: name -> IFLA_MACVLAN_MODE value.
    modes = macvlan.modes,
  },
}
