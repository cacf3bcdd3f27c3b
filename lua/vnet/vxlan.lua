--- vnet.vxlan: Virtual eXtensible LAN: Ethernet frames carried in UDP
-- between tunnel endpoints, told apart by a 24-bit VNI.
--
--    local vx = assert(vnet.vxlan.create{ name = "vx0", id = 42,
--        ["local"] = "10.0.0.1", remote = "10.0.0.2", dstport = 4789 })
--    print(vx.id, vx.remote, vx.dstport)   --> 42  10.0.0.2  4789
--
-- Options, besides link.create's:
--    id         the VNI, 0 to 16777215 (required unless external)
--    remote     the one far endpoint (unicast), or
--    group      a multicast group of endpoints (then dev is needed)
--    local      this end's source address
--    dev        the link the tunnel's packets leave by
--    dstport    UDP port (the kernel's default is 8472; IANA's is 4789)
--    srcport    {low, high}: the range of UDP source ports
--    ttl, tos, learning, ageing, limit, proxy, l2miss, l3miss, udp_csum,
--    external (collect metadata: one device for many VNIs)
-- Read back under the same names (l.remote, l.info.group, ...).
local kinds = require "vnet._kinds"
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
local nl = require "vnet.nl.core"

local function multicast(addr)
  local fam, b = nl.pton(addr)
  if fam == "inet" then return b:byte(1) >= 224 and b:byte(1) <= 239 end
  return fam == "inet6" and b:byte(1) == 0xff
end

return kinds.define {
  lane = { modules = { "vxlan" }, probe = "type vxlan id 7 dstport 4789 local 10.99.0.1" },
  kind = "vxlan",
  options = {
    id = { attr = 1, fmt = "u32", max = 0xffffff },
    group = { attr = 2, attr6 = 16, fmt = "ip" },
    remote = { attr = 2, attr6 = 16, fmt = "ip", encode_only = true },
    dev = { attr = 3, fmt = "link" },
    ["local"] = { attr = 4, attr6 = 17, fmt = "ip" },
    ttl = { attr = 5, fmt = "u8" },
    tos = { attr = 6, fmt = "u8" },
    learning = { attr = 7, fmt = "bool", change = true },
    ageing = { attr = 8, fmt = "u32", change = true },
    limit = { attr = 9, fmt = "u32", change = true },
    srcport = { attr = 10, type = "table",
      encode = function(ctx, v, bad)
        local lo, hi = v[1], v[2]
        if math.type(lo) ~= "integer" or math.type(hi) ~= "integer" or lo < 1 or hi > 65535 or lo > hi then
          bad("must be {low, high}, 1 to 65535")
        end
        return { { 10, "bytes", string.pack(">I2I2", lo, hi) } }
      end,
      decode = function(info, p)
        local lo, hi = string.unpack(">I2I2", p)
        if lo ~= 0 or hi ~= 0 then info.srcport = { lo, hi } end
      end },
    proxy = { attr = 11, fmt = "bool" },
    l2miss = { attr = 13, fmt = "bool" },
    l3miss = { attr = 14, fmt = "bool" },
    dstport = { attr = 15, fmt = "be16" },
    udp_csum = { attr = 18, fmt = "bool" },
    external = { attr = 25, fmt = "bool" },
  },
  check = function(op, name, o)
    if o.id == nil and not o.external then
      raise(op .. " " .. name .. ": option 'id' is required (the VNI, 0 to 16777215)")
    end
    if o.remote ~= nil and o.group ~= nil then
      raise(op .. " " .. name .. ": options 'remote' and 'group' exclude each other")
    end
    if o.group ~= nil and nl.pton(o.group) and not multicast(o.group) then
      raise(op .. " " .. name .. ": option 'group' must be a multicast address (got '" ..
        o.group .. "'; use remote for one endpoint)")
    end
    if o.remote ~= nil and nl.pton(o.remote) and multicast(o.remote) then
      raise(op .. " " .. name .. ": option 'remote' must be a unicast address (got '" ..
        o.remote .. "'; use group for multicast)")
    end
  end,
  decode_extra = function(info)
    if info.group and not multicast(info.group) then info.remote, info.group = info.group, nil end
  end,
}

--- vxlan.create{name =, id =, remote | group =, local =, dstport =, dev =, ...}
-- -> link | nil, msg, errno
