#!/usr/bin/env vnet
--- icmp-responder.lua: answer pings on a TUN device, from Lua.
--
-- Run as root (creating a TUN needs CAP_NET_ADMIN):
--
--   vnet scripts/icmp-responder.lua [name] [local] [peer] [seconds]
--
-- It makes TUN `name` (default vnet-icmp) with address `local` (default
-- 10.9.0.1) pointing to `peer` (default 10.9.0.2), and answers every ICMP
-- echo request sent to anything routed through it, printing each. Ctrl-C
-- (or `seconds`, if given) ends it; the device goes away with the script.
-- Try it in a scratch namespace:  unshare -n sh -c 'ip link set lo up;
--   vnet scripts/icmp-responder.lua & sleep 0.5; ping -c3 10.9.0.2'
local vnet = require "vnet"

local name, addr, peer = arg[1] or "vnet-icmp", arg[2] or "10.9.0.1", arg[3] or "10.9.0.2"
local seconds = tonumber(arg[4])

local tun <close> = assert(vnet.tun.open { name = name })
assert(tun:addr_add(addr, { peer = peer }))
assert(tun:up())
print(string.format("%s up: %s peer %s, answering pings", tun.name, addr, peer))
io.stdout:setvbuf("line")

local function ip4(p, off)
  return string.format("%d.%d.%d.%d", p:u8(off), p:u8(off + 1), p:u8(off + 2), p:u8(off + 3))
end

tun:on_packet(function(p, dev)
  if #p < 28 or p:u8(0) >> 4 ~= 4 or p:u8(9) ~= 1 then return end -- IPv4 ICMP only
  local ihl = (p:u8(0) & 0x0f) * 4
  if #p < ihl + 8 or p:u8(ihl) ~= 8 then return end               -- echo request
  local src, dst = p:u32(12), p:u32(16)
  p:set_u32(12, dst)                     -- swap addresses: the IPv4 header
  p:set_u32(16, src)                     -- checksum does not change
  p:set_u8(ihl, 0)                       -- echo reply
  p:set_u16(ihl + 2, 0)
  p:set_u16(ihl + 2, p:csum(ihl))        -- ICMP checksum over the message
  dev:write(p)
  print(string.format("reply %s -> %s id %d seq %d", ip4(p, 12), ip4(p, 16),
    p:u16(ihl + 4), p:u16(ihl + 6)))
end)

local ok, why = vnet.loop.run { timeout = seconds }
print("done: " .. tostring(why))
if not ok then os.exit(1) end
