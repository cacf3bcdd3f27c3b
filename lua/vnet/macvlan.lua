--- vnet.macvlan: several MAC addresses (and links) on one parent device.
-- The parent hands each frame to the macvlan whose MAC address it is for.
--
--    local mv = assert(vnet.macvlan.create{ name = "mv0", link = "eth0",
--                                            mode = "bridge" })
--    print(mv.mode)                    --> bridge
--    assert(mv:set{ mode = "private" })
--
-- Modes (the seed's three, and two more):
--    bridge    macvlans on one parent reach each other directly
--    vepa      frames between them go out to the switch, and come back only
--              if it turns them around ("hairpin")
--    private   like vepa, and frames coming back from the switch are
--              dropped too: they never reach each other
--    passthru  one macvlan takes over the parent (for a VM)
--    source    accepts only frames from source_addresses
-- Options, besides link.create's (name, link = the parent, address, mtu,
-- up, netns...): mode, nopromisc (passthru: do not make the parent
-- promiscuous), nodst (source: do not also deliver by destination),
-- bc_queue_len, source_addresses (a list of MACs, mode "source").
-- mode, nopromisc, nodst, bc_queue_len and source_addresses can be changed
-- with l:set{}. Read back: l.mode, l.nopromisc, l.nodst, l.bc_queue_len,
-- l.source_addresses.
local kinds = require "vnet._kinds"
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
local nl = require "vnet.nl.core"

local M = {}
--- The modes: name -> IFLA_MACVLAN_MODE value (macvtap shares them).
M.modes = { private = 1, vepa = 2, bridge = 4, passthru = 8, source = 16 }

local FLAGS, MACADDR_MODE, MACADDR, MACADDR_DATA = 2, 3, 4, 5
local MACADDR_SET = 3

--- The options macvlan and macvtap share.
M.options = {
  mode = { attr = 1, fmt = "u32", enum = M.modes, change = true },
  nopromisc = { virtual = true, type = "boolean", change = true },
  nodst = { virtual = true, type = "boolean", change = true },
  flags = { attr = FLAGS, readonly = true, decode = function(info, p)
    local f = string.unpack("=I2", p)
    info.nopromisc, info.nodst = f & 1 ~= 0, f & 2 ~= 0
  end },
  bc_queue_len = { attr = 7, fmt = "u32", change = true },
  source_addresses = { type = "table", change = true, attr = MACADDR_DATA,
    encode = function(ctx, v, bad)
      local macs = {}
      for i, s in ipairs(v) do
        local b = type(s) == "string" and nl.mac(s)
        if not b then bad(string.format("entry %d: '%s' is not a MAC address", i, tostring(s))) end
        macs[i] = { MACADDR, "bytes", b }
      end
      return { { MACADDR_MODE, "u32", MACADDR_SET }, { MACADDR_DATA, "nest", macs } }
    end,
    decode = function(info, p)
      local list = {}
      for _, a in ipairs(nl.attrs(p)) do
        if a[1] == MACADDR then list[#list + 1] = nl.hwaddr(a[2]) end
      end
      info.source_addresses = list
    end },
}

--- check(op, name, o): the rule across options (source_addresses needs
-- mode "source"); raises at the caller's line. Shared with macvtap.
function M.check(op, name, o)
  if o.source_addresses ~= nil and o.mode ~= "source" then
    raise(string.format("%s %s: option 'source_addresses' needs mode 'source' (got %s)",
      op, name, o.mode and ("'" .. o.mode .. "'") or "no mode"))
  end
end

--- What the kernel's bare errnos mean for a macvlan (it gives no text).
M.hints = {
  [16] = "the parent is already taken: a bridge or bond port, or it has an ipvlan",
  [22] = "the parent cannot carry one (loopback, or a passthru macvlan is on it " ..
    "or would be next to others)",
}

--- finish(ctx, o, items): add IFLA_MACVLAN_FLAGS from the options
-- nopromisc and nodst. Shared with macvtap.
function M.finish(ctx, o, items)
  if o.nopromisc ~= nil or o.nodst ~= nil then
    items[#items + 1] = { FLAGS, "u16", (o.nopromisc and 1 or 0) | (o.nodst and 2 or 0) }
  end
end

--- macvlan.create{name =, link =, mode =, address =, source_addresses =, ...}
-- -> link | nil, msg, errno
return kinds.define {
  lane = { modules = { "macvlan" }, probe = "link kp-parent0 type macvlan mode bridge" },
  kind = "macvlan", parent = "required", options = M.options,
  example = { link = "p0", mode = "private", nopromisc = true, bc_queue_len = 500 },
  check = M.check, finish = M.finish, hints = M.hints,
  decode_extra = function(info) info.source_addresses = info.source_addresses or
    (info.mode == "source" and {} or nil) end,
  module = M, -- what others build on (modes, options, ...)
}
