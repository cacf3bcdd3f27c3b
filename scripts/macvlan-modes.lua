#!/usr/bin/env vnet
--- macvlan-modes.lua: the seed's three macvlan modes side by side, and
-- which pairs of macvlans can talk in each.
--
-- Run as root (or `vnet --sandbox scripts/macvlan-modes.lua`):
--   vnet scripts/macvlan-modes.lua
--
-- For each case, a veth's near end is the parent of two macvlans (each in
-- a namespace of its own, 10.2.0.1 and 10.2.0.2), and its far end sits in
-- another namespace playing the external switch: either a plain link, or
-- a port of a bridge with hairpin on (a switch that sends frames back out
-- the port they came in by, which VEPA needs). Then mv1 pings mv2:
--   bridge   the macvlans talk directly, inside the parent
--   vepa     frames go out to the switch; only a hairpin brings them back
--   private  never, hairpin or not
-- Everything lives in anonymous namespaces held by the script: it is all
-- gone when the script ends, also on Ctrl-C.
local vnet = require "vnet"
local netns, veth, macvlan, bridge = vnet.netns, vnet.veth, vnet.macvlan, vnet.bridge

local function case(mode, hairpin)
  local lab <close> = assert(netns.create())    -- holds the parent
  local switch <close> = assert(netns.create()) -- the far end
  local n1 <close> = assert(netns.create())
  local n2 <close> = assert(netns.create())
  return lab:run(function()
    local up0, sw0 = assert(veth.create("up0", "sw0", { peer_netns = switch, up = true, peer_up = true }))
    if hairpin then
      assert(switch:run(bridge.create, { name = "br0", up = true, ports = { "sw0" } }))
      assert(bridge.port(sw0, { hairpin = true }))
    end
    local m1 = assert(macvlan.create { name = "mv1", link = up0, mode = mode, netns = n1, up = true })
    local m2 = assert(macvlan.create { name = "mv2", link = up0, mode = mode, netns = n2, up = true })
    assert(m1:addr_add("10.2.0.1/24"))
    assert(m2:addr_add("10.2.0.2/24"))
    local status = n1:exec { "ping", "-c", "1", "-W", "1", "10.2.0.2" }
    return status == 0
  end)
end

print(string.format("%-8s %-8s %s", "mode", "hairpin", "mv1 -> mv2"))
for _, c in ipairs { { "bridge", false }, { "vepa", false }, { "vepa", true },
                     { "private", false }, { "private", true } } do
  local ok = case(c[1], c[2])
  print(string.format("%-8s %-8s %s", c[1], c[2] and "yes" or "no", ok and "reach" or "no reply"))
  io.stdout:flush()
end
