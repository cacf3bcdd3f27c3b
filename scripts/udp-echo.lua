#!/usr/bin/env vnet
--- udp-echo.lua: an echo server for UDP on a TUN device, from Lua.
--
-- Run as root (creating a TUN needs CAP_NET_ADMIN):
--
--   vnet scripts/udp-echo.lua [options]
--   vnet scripts/udp-echo.lua --demo        see it work, then exit
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
-- With --demo the script makes a scratch namespace itself, with the TUN in
-- it, sends a datagram over IPv4 and one over IPv6 with nc from there,
-- prints what comes back, and exits, leaving nothing behind. Or by hand,
-- in a scratch namespace:
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
--   --demo         make a scratch namespace and traffic, show the echo, exit
--
-- Ctrl-C, SIGTERM or --seconds end it; the TUN goes away with the script.
local vnet = require "vnet"
local lib = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "_lib.lua")

local usage = lib.usage(debug.getinfo(1, "S").source:sub(2))
local o, pos = lib.getopt(arg, {
  dev = "vnet-echo", addr = "10.9.1.1", peer = "10.9.1.2", addr6 = "fd00:9:1::1/64",
  port = lib.NUMBER, seconds = lib.NUMBER, q = false, demo = false,
}, usage)
if #pos > 0 then
  lib.die("udp-echo.lua", "no arguments besides options", usage)
end
io.stdout:setvbuf("line")

local function setup()
  local tun = assert(vnet.tun.open { name = o.dev })
  local ok, err = pcall(function()
    assert(tun:addr_add(o.addr, { peer = o.peer }))
    assert(tun:addr_add(o.addr6, { nodad = true }))
    assert(tun:up())
  end)
  if not ok then tun:close(); error(err, 0) end
  return tun
end

local function main()
  local ns <close> = o.demo and lib.scratch() or nil
  local tun <close> = ns and ns:run(setup) or setup()
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
  if ns then
    local peer6 = o.addr6:gsub("::1/%d+$", "::2"):gsub("/%d+$", "")
    local port = o.port or 7
    lib.demo_traffic(ns, string.format("echo hello over IPv4 | nc -u -w1 %s %d; " ..
      "echo hello over IPv6 | nc -u -w1 %s %d", o.peer, port, peer6, port), "nc")
  end
  local ok, why = lib.run { timeout = o.seconds or (ns and 10) }
  print(string.format("%d datagrams echoed; done: %s", echoed, tostring(why)))
  return ok
end

lib.main("udp-echo.lua", main)
