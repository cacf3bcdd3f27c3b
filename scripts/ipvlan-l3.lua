#!/usr/bin/env vnet
--- ipvlan-l3.lua: two namespaces on one parent with ipvlan in l3 mode.
-- The ipvlans share the parent's MAC address (the seed: ipvlan separates
-- traffic by IP address, not MAC); in l3 mode the parent routes between
-- them, with no ARP at all.
--
-- Run as root (or `vnet --sandbox scripts/ipvlan-l3.lua`):
--   vnet scripts/ipvlan-l3.lua
-- On a kernel without ipvlan it says so and exits with status 2.
-- Everything lives in anonymous namespaces held by the script.
local vnet = require "vnet"

local lab <close> = assert(vnet.netns.create())
local n1 <close> = assert(vnet.netns.create())
local n2 <close> = assert(vnet.netns.create())
assert(lab:enter())

local parent = assert(vnet.veth.create("eth0", "eth1", { up = true, peer_up = true }))
local i1, err, eno = vnet.ipvlan.create { name = "ipv1", link = parent, mode = "l3", netns = n1, up = true }
if not i1 then
  io.stderr:write("ipvlan-l3: ", err, "\n")
  os.exit(eno == vnet.errno.EOPNOTSUPP and 2 or 1)
end
local i2 = assert(vnet.ipvlan.create { name = "ipv2", link = parent, mode = "l3", netns = n2, up = true })
assert(i1:addr_add("10.4.1.1/24"))
assert(i2:addr_add("10.4.1.2/24"))
print(string.format("parent %s %s; ipv1 %s (in n1), ipv2 %s (in n2): mode %s",
  parent.name, parent.address, i1.address, i2.address, i1.mode))
print("NOARP on ipv1: " .. tostring(n1:run(function()
  for _, f in ipairs(assert(vnet.link.get("ipv1")).flags) do if f == "NOARP" then return true end end
  return false
end)))
local status, out = n1:exec { "ping", "-c", "2", "-i", "0.2", "-W", "1", "10.4.1.2" }
io.write(out)
print(status == 0 and "ping: ok" or "ping: failed")
os.exit(status == 0 and 0 or 1)
