#!/usr/bin/env vnet
--- tun-capture.lua: be the far end of a TUN (or TAP) and record what flows
-- through it into a pcap file that tcpdump and Wireshark open.
--
-- Run as root (creating a TUN needs CAP_NET_ADMIN):
--
--   vnet scripts/tun-capture.lua [options] [NAME [FILE]]
--   vnet scripts/tun-capture.lua --demo [FILE]      see it work, then exit
--
-- NAME is the device (default tun0), FILE the pcap file (default
-- NAME.pcap). A TUN hands its packets to the one process that holds it,
-- so "capturing tun0" here means being that process: the script creates
-- tun0, or attaches to it when it is a persistent device nobody holds
-- (made with `ip tuntap add tun0 mode tun`), and records every packet the
-- kernel sends into it, plus every answer the script writes back with
-- --echo. A TUN that another program holds cannot be captured this way
-- (the kernel says "Device or resource busy"): watch it with
-- scripts/capture.lua NAME (a packet socket) instead.
-- (The library's dev:capture(path) records in C at the device's read and
-- write when core/io/dev.c has the capture hook; this script writes the file
-- itself from its callback, so it works either way.)
--
-- With --demo the script makes a scratch namespace itself, with the TUN in
-- it (--addr 10.9.2.1, --peer 10.9.2.2 and --echo unless given), pings
-- the peer three times from there, reads the file back and prints it, and
-- exits, leaving nothing behind (the file too, unless FILE is given).
-- Or by hand:
--   vnet scripts/tun-capture.lua tun0 out.pcap --addr 10.9.2.1 --peer 10.9.2.2 --echo &
--   ping -c 3 10.9.2.2                  # answered by the script, recorded
--   kill %1; tcpdump -nn -r out.pcap    # 6 packets: 3 requests, 3 replies
--
-- Options:
--   --tap          make a TAP (Ethernet frames) instead of a TUN
--   --addr CIDR    give the device this address (else it has none)
--   --peer ADDR    the other end of a point-to-point --addr (TUN)
--   --route CIDR   also route this prefix into the device (repeatable)
--   --echo         answer ICMP and ICMPv6 echo requests (and record the
--                  replies), so that ping sees the other end
--   --count N      stop after recording N packets
--   --seconds N    stop after N seconds (default: until Ctrl-C)
--   --nanosecond   nanosecond time stamps in the file
--   -q             do not print a line per packet
--   --demo         make a scratch namespace and traffic, show the file, exit
--
-- The file is complete whatever ends the script: --count, --seconds,
-- Ctrl-C or SIGTERM. The device goes with the script unless it was a
-- persistent one, which stays as it was found.
local vnet = require "vnet"
local lib = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "_lib.lua")
local loop = vnet.loop

local usage = lib.usage(debug.getinfo(1, "S").source:sub(2))
local o, pos = lib.getopt(arg, {
  tap = false, addr = lib.STRING, peer = lib.STRING, route = {}, echo = false,
  count = lib.NUMBER, seconds = lib.NUMBER, nanosecond = false, q = false, demo = false,
}, usage)
if #pos > (o.demo and 1 or 2) then
  lib.die("tun-capture.lua", o.demo and "--demo takes at most FILE" or "at most NAME and FILE", usage)
end
local name = o.demo and "tun0" or pos[1] or "tun0"
local file = pos[o.demo and 1 or 2] or not o.demo and name .. ".pcap" or nil
local scratch_file = o.demo and not file
if o.demo and o.tap then lib.die("tun-capture.lua", "--demo makes a TUN; --tap is not for it", usage) end
if o.demo then
  file = file or os.tmpname()
  if not o.addr then o.addr, o.peer = "10.9.2.1", o.peer or "10.9.2.2" end
  o.echo = true
end
io.stdout:setvbuf("line")

local function setup()
  local mod = o.tap and vnet.tap or vnet.tun
  local dev = assert(mod.open { name = name })
  local ok, err = pcall(function()
    if o.addr then assert(dev:addr_add(o.addr, { peer = o.peer })) end
    assert(dev:up())
    for _, r in ipairs(o.route) do assert(vnet.route.add { dst = r, dev = dev }) end
  end)
  if not ok then dev:close(); error(err, 0) end
  return dev
end

-- --demo: what the file holds, read back
local function show(path)
  local r <close> = assert(vnet.pcap.open(path))
  for p, t in r:packets() do print(string.format("file | %.6f %s", t, tostring(p))) end
  if scratch_file then os.remove(path) end
end

local function main()
  local ns <close> = o.demo and lib.scratch() or nil
  local dev <close> = ns and ns:run(setup) or setup()
  local w <close> = assert(vnet.pcap.open(file, "w", {
    linktype = o.tap and "ethernet" or "raw", nanosecond = o.nanosecond,
  }))
  local count = 0
  local function record(p, how)
    assert(w:write(p))
    count = count + 1
    if not o.q then print(string.format("%4d %s %s", count, how, tostring(p))) end
    if o.count and count >= o.count then loop.stop() end
  end
  dev:on_packet(function(p, d)
    record(p, "in ")
    if o.echo and not (o.count and count >= o.count) and p:echo_reply() then
      assert(d:write(p))
      record(p, "out")
    end
  end)
  print(string.format("capturing %s (%s) into %s%s", dev.name, dev.kind, file,
    o.echo and ", answering pings" or ""))
  if ns then
    lib.demo_traffic(ns, "ping -c 3 -i 0.2 -W 2 " .. (o.peer or o.addr:match("^[^/]+")), "ping")
  end
  local ok, why = lib.run { timeout = o.seconds or (ns and 10) }
  w:close()
  print(string.format("%d packets in %s; done: %s", count, file, tostring(why)))
  if ns then show(file) end
  return ok
end

lib.main("tun-capture.lua", main)
