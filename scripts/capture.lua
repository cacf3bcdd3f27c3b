#!/usr/bin/env vnet
--- capture.lua: a small tcpdump on any link, in any namespace, through a
-- vnet packet socket (vnet.psock): the filter is compiled by libpcap and
-- runs in the kernel; packets come through a TPACKET_V3 ring.
--
--   vnet scripts/capture.lua LINK [-c COUNT] [-w FILE] [--netns NAME]
--                            [options] [FILTER EXPRESSION...]
--
-- Without -w, one line per packet: time, direction and vnet's summary.
-- With -w FILE, the packets go into FILE: pcap (microsecond time stamps,
-- as tcpdump writes), or pcapng for a name ending in ".pcapng". At the
-- end, as tcpdump does: the packets captured and those the kernel dropped
-- (its ring was full). It ends on -c, --seconds, Ctrl-C or SIGTERM, the
-- file complete. Run as root (packet sockets need CAP_NET_RAW).
--
-- (scripts/tun-capture.lua is the other kind of capture: it *is* the far
-- end of a TUN/TAP, making the device and answering pings.)
--
-- Try it:
--   vnet scripts/capture.lua lo -c 4 icmp &  ping -c 2 127.0.0.1
--   vnet scripts/capture.lua veth0 --netns red -w out.pcapng udp port 53
--
-- Options:
--   -c COUNT        stop after COUNT packets
--   -w FILE         write the packets to FILE instead of printing them
--   --netns NAME    the link is in that namespace (`ip netns` name, path
--                   or pid)
--   -Q DIR          in, out or inout (default): the direction to capture
--   -p              do not put the link into promiscuous mode
--   --seconds N     stop after N seconds (default: until Ctrl-C)
--   --nanosecond    nanosecond time stamps in a pcap file
local vnet = require "vnet"
local lib = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "_lib.lua")
local loop = vnet.loop

local usage = lib.usage(debug.getinfo(1, "S").source:sub(2))
local o, pos = lib.getopt(arg, {
  c = lib.NUMBER, w = lib.STRING, netns = lib.STRING, Q = "inout", p = false,
  seconds = lib.NUMBER, nanosecond = false,
}, usage)
local name = table.remove(pos, 1)
if not name then lib.die("capture.lua", "which link? (LINK is required)", usage) end
local DIRS = { inout = "both", ["in"] = "in", out = "out" }
if not DIRS[o.Q] then lib.die("capture.lua", "-Q must be in, out or inout", usage) end
if o.c and (o.c < 1 or math.type(o.c) ~= "integer") then
  lib.die("capture.lua", "-c must be a positive integer", usage)
end
local filter = #pos > 0 and table.concat(pos, " ") or nil
io.stdout:setvbuf("line")

local function clock(sec, nsec)
  return os.date("!%H:%M:%S", sec) .. string.format(".%06d", nsec // 1000)
end

local function main()
  local s <close>, err = vnet.psock.open(math.tointeger(tonumber(name)) or name, {
    netns = o.netns and lib.netns(o.netns) or nil, filter = filter,
    promisc = not o.p, direction = DIRS[o.Q] })
  if not s then error(err, 0) end
  local function writer()
    if not o.w then return nil end
    local w, werr = vnet.pcap.open(o.w, "w", { linktype = s.linktype, nanosecond = o.nanosecond })
    if not w then error(werr, 0) end
    return w
  end
  local w <close> = writer()
  io.stderr:write(string.format("capture.lua: listening on %s, link-type %s, %s\n",
    s.name, s.linktype == 1 and "EN10MB (Ethernet)" or "RAW (Raw IP)",
    filter and ("filter '" .. filter .. "'") or "no filter"))
  local count = 0
  if w and w.format ~= "pcapng" then
    -- a pcap file is written in C by the socket's capture hook, with the
    -- kernel's time stamps: Lua only counts
    assert(s:capture(w))
    s:on_packet(function()
      count = count + 1
      if o.c and count >= o.c then loop.stop() end
    end)
  else
    s:on_packet(function(p, sock)
      local _, sec, nsec, _, pkttype = sock:info()
      count = count + 1
      if w then
        assert(w:write(p, sec, nsec))
      else
        print(string.format("%s %-5s %s", clock(sec, nsec), pkttype, tostring(p)))
      end
      if o.c and count >= o.c then loop.stop() end
    end)
  end
  local ok = lib.run { timeout = o.seconds }
  if w then assert(w:close()) end
  io.stderr:write(string.format("%d packets captured\n%d packets dropped by kernel\n",
    count, s.drops))
  return ok
end

lib.main("capture.lua", main)
