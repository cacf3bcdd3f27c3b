--- vnet.vlan: an 802.1Q (or 802.1ad) tagged link on a parent: frames sent
-- through it carry the VLAN id; tagged frames arriving on the parent with
-- that id come out of it.
--
--    local v = assert(vnet.vlan.create{ name = "eth0.10", link = "eth0", id = 10 })
--    print(v.id, v.protocol)           --> 10  802.1Q
--
-- Options, besides link.create's: id (0 to 4094, required), protocol
-- ("802.1Q", the default, or "802.1ad"), and the flags reorder_hdr, gvrp,
-- mvrp, loose_binding (booleans; these can change with l:set{}).
local kinds = require "vnet._kinds"
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line

local FLAGS = 2
local bits = { reorder_hdr = 1, gvrp = 2, loose_binding = 4, mvrp = 8 }

--- vlan.create{name =, link =, id =, protocol =, ...} -> link | nil, msg, errno
return kinds.define {
  lane = { modules = { "8021q" }, probe = "link kp-parent0 type vlan id 5" },
  kind = "vlan", parent = "required",
  options = {
    id = { attr = 1, fmt = "u16", max = 4094 },
    protocol = { attr = 5, fmt = "be16", enum = { ["802.1Q"] = 0x8100, ["802.1ad"] = 0x88a8 } },
    reorder_hdr = { virtual = true, type = "boolean", change = true },
    gvrp = { virtual = true, type = "boolean", change = true },
    mvrp = { virtual = true, type = "boolean", change = true },
    loose_binding = { virtual = true, type = "boolean", change = true },
    vlan_flags = { attr = FLAGS, readonly = true, decode = function(info, p)
      local f = string.unpack("=I4", p)
      for name, bit in pairs(bits) do info[name] = f & bit ~= 0 end
    end },
  },
  check = function(op, name, o)
    if o.id == nil then raise(op .. " " .. name .. ": option 'id' is required (0 to 4094)") end
  end,
  finish = function(ctx, o, items)
    local flags, mask = 0, 0
    for name, bit in pairs(bits) do
      if o[name] ~= nil then
        mask = mask | bit
        if o[name] then flags = flags | bit end
      end
    end
    if mask ~= 0 then items[#items + 1] = { FLAGS, "bytes", string.pack("=I4I4", flags, mask) } end
  end,
}

