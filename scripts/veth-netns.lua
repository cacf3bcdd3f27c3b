#!/usr/bin/env vnet
--- veth-netns.lua: two network namespaces joined by a veth pair, an
-- address on each end, and a ping from one to the other.
--
-- Run as root (or in a namespace of your own: `vnet --sandbox ...`):
--   vnet scripts/veth-netns.lua          build, ping, tear down
--   vnet scripts/veth-netns.lua wait     ... and keep the lab until Ctrl-C,
--                                        printing how to step inside
-- The namespaces are anonymous and held only by this script: when it ends
-- (normally, on Ctrl-C, or killed) they go, and the veth pair with them.
-- Your own network is not touched.
local vnet = require "vnet"
local netns, veth = vnet.netns, vnet.veth

local red <close> = assert(netns.create())
local blue <close> = assert(netns.create())

-- one request: vred is made in red, its peer vblue straight in blue
local a, b = assert(veth.create("vred", "vblue", { netns = red, peer_netns = blue }))
print(string.format("veth pair: %s (ifindex %d, in red) <-> %s (ifindex %d, in blue)",
  a.name, a.ifindex, b.name, b.ifindex))
print(string.format("%s:peer() finds %s from its IFLA_LINK (ifindex %d, netns id %d)",
  a.name, assert(a:peer()).name, a.parent, a.netns_id))

assert(a:addr_add("10.0.0.1/24")); assert(a:set { up = true })
assert(b:addr_add("10.0.0.2/24")); assert(b:set { up = true })
assert(red:run(vnet.link.set, "lo", { up = true }))
assert(blue:run(vnet.link.set, "lo", { up = true }))
print("red: 10.0.0.1/24 on vred   blue: 10.0.0.2/24 on vblue")

print("--- ping -c 3 10.0.0.2, from red")
local status, out = red:exec { "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.0.0.2" }
io.write(out)
print(status == 0 and "ping: ok" or ("ping: failed (status " .. status .. ")"))
io.stdout:flush()

if arg[1] == "wait" then
  local pid = io.open("/proc/self/stat"):read("a"):match("^(%d+)")
  print(string.format("ready: step inside with  nsenter --net=/proc/%s/fd/%d  (red)  or  " ..
    "nsenter --net=/proc/%s/fd/%d  (blue); Ctrl-C ends it", pid, red:fileno(), pid, blue:fileno()))
  io.stdout:flush()
  vnet.loop.every(3600, function() end)
  local _, why = vnet.loop.run()
  print("stopping (" .. why .. ")")
end
print("cleaned up: the namespaces and the veth pair are gone")
if status ~= 0 then os.exit(1) end
