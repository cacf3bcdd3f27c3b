#!/usr/bin/env vnet
--- tun-default.lua: the seed's C program, in Lua.
--
-- Opens /dev/net/tun, asks for a TUN device named tun-default (IFF_TUN, with
-- the packet-information header, as the C program's flags do), and waits.
-- While it runs, `ip addr` shows tun-default; when it exits (Ctrl-C, or
-- after `seconds` if given) the fd closes and the device disappears.
--
-- Run as root (creating a TUN needs CAP_NET_ADMIN):
--   vnet scripts/tun-default.lua [seconds]
-- then, in another shell:
--   ip addr add 1.1.1.1 dev tun-default && ip addr show tun-default
local vnet = require "vnet"

local seconds = tonumber(arg[1])
local dev <close> = assert(vnet.tun.open { name = "tun-default", pi = true })
print(string.format("created %s (ifindex %d); Ctrl-C removes it", dev.name, dev.ifindex))
io.stdout:flush()

-- the C program's while (1) sleep(1000);
vnet.loop.every(1000, function() end)
local _, why = vnet.loop.run { timeout = seconds }
print("closing " .. dev.name .. " (" .. why .. ")")
