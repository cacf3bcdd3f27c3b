#!/usr/bin/env vnet
--- macvtap-read.lua: frames sent to a macvtap's MAC address, read from its
-- character device /dev/tap<ifindex>.
--
-- Run as root (or `vnet --sandbox scripts/macvtap-read.lua`):
--   vnet scripts/macvtap-read.lua [frames]     (default 3)
--
-- A veth's near end is the macvtap's parent; its far end, in a namespace
-- playing the network, has 10.3.0.1/24 and a static ARP entry saying
-- 10.3.0.2 is at the macvtap's MAC address. Pinging 10.3.0.2 from there
-- sends frames to that address; the macvtap does not give them to the
-- network stack but to /dev/tapN, which queues them until this script
-- reads them with dev:on_packet and prints each. It stops after that many
-- frames, after 5 s, or on Ctrl-C; everything is in anonymous namespaces
-- and goes with the script.
local vnet = require "vnet"
local want = math.tointeger(tonumber(arg[1] or 3)) or 3

local lab <close> = assert(vnet.netns.create())
local net <close> = assert(vnet.netns.create())
assert(lab:enter()) -- this script lives in the lab from here on

local up0, sw0 = assert(vnet.veth.create("up0", "sw0", { peer_netns = net, up = true, peer_up = true }))
local mt = assert(vnet.macvtap.create { name = "mvt0", link = up0, mode = "bridge", up = true })
local dev <close> = assert(mt:open())
print(string.format("macvtap %s (%s) on %s: reading /dev/tap%d", mt.name, mt.address, up0.name, mt.ifindex))

assert(sw0:addr_add("10.3.0.1/24"))
assert(net:run(vnet.neigh.replace, "sw0", "10.3.0.2", mt.address))

local seen = 0
dev:on_packet(function(f)
  local dst = f:sub(1, 6):gsub(".", function(c) return string.format("%02x:", c:byte()) end):sub(1, -2)
  local src = f:sub(7, 12):gsub(".", function(c) return string.format("%02x:", c:byte()) end):sub(1, -2)
  local etype = f:u16(12)
  local what = string.format("ethertype 0x%04x", etype)
  if etype == 0x0800 and f:u8(23) == 1 then
    what = string.format("IPv4 ICMP %d.%d.%d.%d -> %d.%d.%d.%d type %d",
      f:u8(26), f:u8(27), f:u8(28), f:u8(29), f:u8(30), f:u8(31), f:u8(32), f:u8(33), f:u8(34))
  end
  print(string.format("frame %d: %d bytes %s -> %s %s", seen + 1, #f, src, dst, what))
  io.stdout:flush()
  seen = seen + 1
  if seen >= want then vnet.loop.stop() end
end)

-- the far side pings the macvtap's address (nobody answers: the frames
-- wait in the tap's queue)
net:exec { "ping", "-c", tostring(want), "-i", "0.2", "-W", "1", "10.3.0.2" }
local _, why = vnet.loop.run { timeout = 5 }
print(string.format("read %d frame(s) from /dev/tap%d (%s)", seen, mt.ifindex, why))
if seen < want then os.exit(1) end
