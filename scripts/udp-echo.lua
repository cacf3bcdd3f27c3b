#!/usr/bin/env vnet
--- udp-echo.lua: an echo server for UDP on a TUN device, from Lua.
--
-- Run as root (creating a TUN needs CAP_NET_ADMIN):
--
--   vnet scripts/udp-echo.lua [options]
--
-- It makes TUN `--dev` (vnet-echo) with address `--addr` (10.9.1.1) pointing
-- to `--peer` (10.9.1.2), and IPv6 `--addr6` (fd00:9:1::1/64), and sends
-- every UDP datagram routed into it back where it came from: p:swap()
-- swaps the addresses and ports in place, which leaves every checksum
-- right, and the datagram goes back out the TUN. No socket is involved:
-- whatever is sent to 10.9.1.2 (or any address of fd00:9:1::/64 but the
-- TUN's own), on any port, comes back. `--port N` limits it to one port;
-- other datagrams are dropped.
--
-- Try it in a scratch namespace:
--   unshare -n sh -c 'ip link set lo up; vnet scripts/udp-echo.lua & sleep 0.5;
--     echo hello | nc -u -w1 10.9.1.2 7; echo hello6 | nc -u -w1 fd00:9:1::2 7'
--
-- Options:
--   --dev NAME     the TUN's name (vnet-echo)
--   --addr ADDR    its IPv4 address (10.9.1.1), --peer ADDR the other end (10.9.1.2)
--   --addr6 CIDR   its IPv6 address (fd00:9:1::1/64)
--   --port N       echo only datagrams to this port (default: every port)
--   --seconds N    stop after N seconds (default: until Ctrl-C)
--   -q             do not print a line per datagram
--
-- Ctrl-C, SIGTERM or --seconds end it; the TUN goes away with the script.
local vnet = require "vnet"
local lib = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "_lib.lua")

local usage = lib.usage(debug.getinfo(1, "S").source:sub(2))
local o, pos = lib.getopt(arg, {
  dev = "vnet-echo", addr = "10.9.1.1", peer = "10.9.1.2", addr6 = "fd00:9:1::1/64",
  port = lib.NUMBER, seconds = lib.NUMBER, q = false,
}, usage)
if #pos > 0 then
  lib.die("udp-echo.lua", "no arguments besides options", usage)
end
io.stdout:setvbuf("line")

local function main()
  local tun <close> = assert(vnet.tun.open { name = o.dev })
  assert(tun:addr_add(o.addr, { peer = o.peer }))
  assert(tun:addr_add(o.addr6, { nodad = true }))
  assert(tun:up())
  local echoed = 0
  tun:on_packet(function(p, d)
    p:linktype("raw") -- a TUN gives IP packets: no guessing
    local udp = p:udp()
    if not udp or (o.port and udp.dport ~= o.port) then return end
    local line = not o.q and tostring(p)
    assert(p:swap())
    assert(d:write(p))
    echoed = echoed + 1
    if line then print("echo " .. line) end
  end)
  print(string.format("%s up: %s peer %s, %s; echoing UDP%s", tun.name, o.addr, o.peer,
    o.addr6, o.port and (" to port " .. o.port) or ""))
  local ok, why = lib.run { timeout = o.seconds }
  print(string.format("%d datagrams echoed; done: %s", echoed, tostring(why)))
  return ok
end

lib.main("udp-echo.lua", main)
