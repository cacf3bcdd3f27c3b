#!/usr/bin/env vnet
--- nat.lua: source NAT (masquerading) between two network namespaces, in Lua.
--
-- Run as root (TUN devices and namespaces need CAP_NET_ADMIN):
--
--   vnet scripts/nat.lua --demo                  see it work, then exit
--   vnet scripts/nat.lua [options] INSIDE OUTSIDE
--
-- INSIDE and OUTSIDE are network namespaces: an `ip netns` name, a path
-- (/run/netns/NAME, /proc/PID/ns/net) or a pid. The script makes TUN `na`
-- in INSIDE (10.1.0.2/24, with a route to OUTSIDE's network through it) and
-- TUN `nb` in OUTSIDE (10.2.0.2/24), and holds both. What INSIDE sends to
-- 10.2.0.0/24 comes to the script, which rewrites the source address to
-- the NAT's public address (10.2.0.1) and the source port (for ICMP echo,
-- the id) to one of its own, notes the pair in its connection table and
-- writes the packet into OUTSIDE. OUTSIDE has no route to INSIDE's network:
-- it answers 10.2.0.1, through nb, and the table maps each answer back.
-- TCP, UDP, ICMP echo, and ICMP errors about them (port unreachable, time
-- exceeded); anything else is dropped, as are answers without a mapping.
-- Checksums are kept right by the header views (p:ipv4().src = ...).
--
-- With --demo the script makes two scratch namespaces itself, pings, sends
-- a UDP datagram and a TCP message from INSIDE to OUTSIDE through the NAT,
-- prints what OUTSIDE saw (everything comes from 10.2.0.1) and exits.
--
-- Try it with named namespaces:
--   ip netns add in; ip netns add out
--   vnet scripts/nat.lua in out -v &
--   ip netns exec out nc -vn -l 9000 &     # "Connection received on 10.2.0.1 20000"
--   echo hello | ip netns exec in nc -N 10.2.0.2 9000
--   ip netns exec in ping -c 3 10.2.0.2
--   kill %1; ip netns del in; ip netns del out
--
-- Options:
--   --a-addr CIDR   na's address in INSIDE (10.1.0.2/24)
--   --b-addr CIDR   nb's address in OUTSIDE (10.2.0.2/24)
--   --public ADDR   the NAT's address, on nb's network (10.2.0.1)
--   --ports LO-HI   public ports and ICMP ids to hand out (20000-29999)
--   --seconds N     stop after N seconds (default: until Ctrl-C)
--   -v              print each mapping as it is made and as it expires
--
-- kill -USR1 prints the connection table. Ctrl-C, SIGTERM or --seconds end
-- the script; its TUNs go with it, and with them their addresses and routes.
local vnet = require "vnet"
local lib = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "_lib.lua")
local loop = vnet.loop

local usage = lib.usage(debug.getinfo(1, "S").source:sub(2))
local o, pos = lib.getopt(arg, {
  a_addr = "10.1.0.2/24", b_addr = "10.2.0.2/24", public = "10.2.0.1",
  ports = "20000-29999", seconds = lib.NUMBER, v = false, demo = false,
}, usage)
if not o.demo and #pos ~= 2 then
  lib.die("nat.lua", "give two namespaces (INSIDE OUTSIDE), or --demo", usage)
end
local lo, hi = o.ports:match("^(%d+)%-(%d+)$")
lo, hi = tonumber(lo), tonumber(hi)
if not lo or lo < 1 or hi > 65535 or lo > hi then
  io.stderr:write("nat.lua: --ports wants LO-HI within 1-65535 (got ", o.ports, ")\n")
  os.exit(2)
end
io.stdout:setvbuf("line")

local PUBLIC = o.public
local NAMES = { [1] = "icmp", [6] = "tcp", [17] = "udp" }
local TIMEOUT = { [1] = 30, [17] = 60, [6] = 7440 } -- idle seconds, by protocol
local CLOSING = 10 -- seconds a TCP mapping stays after RST, or FIN both ways

-- The connection table. An entry is one flow from INSIDE:
--   proto, src, sport (inside address and port, or ICMP id), dst, dport
--   (the remote end; 0 for ICMP), port (its public port or id), last
--   (loop.now() of its last packet), fin_out, fin_in, closing.
-- by_flow["proto src sport dst dport"] and by_port[proto][port] find it.
local by_flow, by_port = {}, { [1] = {}, [6] = {}, [17] = {} }
local next_port = { [1] = lo, [6] = lo, [17] = lo }
local stats = { out = 0, ["in"] = 0, dropped = 0, mappings = 0 }
local why_dropped = {}

local function log(fmt, ...)
  if o.v then print(string.format(fmt, ...)) end
end

local function drop(why)
  stats.dropped = stats.dropped + 1
  why_dropped[why] = (why_dropped[why] or 0) + 1
end

local function describe(e)
  return string.format("%s %s:%d > %s:%d as %s:%d", NAMES[e.proto], e.src, e.sport,
    e.dst, e.dport, PUBLIC, e.port)
end

-- A free public port for proto, or nil when all are taken.
local function alloc(proto)
  local used, n = by_port[proto], hi - lo + 1
  for i = 0, n - 1 do
    local port = lo + (next_port[proto] - lo + i) % n
    if not used[port] then
      next_port[proto] = lo + (port - lo + 1) % n
      return port
    end
  end
end

local function forget(e, why)
  by_flow[e.key] = nil
  by_port[e.proto][e.port] = nil
  log("%s %s", why, describe(e))
end

local function expire()
  local now = loop.now()
  for _, e in pairs(by_flow) do
    local idle = e.closing and CLOSING or TIMEOUT[e.proto]
    if now - e.last > idle then forget(e, "expired") end
  end
end

-- TCP flags seen on a mapped flow: RST ends it, FIN both ways too.
local function track(e, tcp, outward)
  if not tcp then return end
  if tcp.RST then e.closing = true end
  if tcp.FIN then
    if outward then e.fin_out = true else e.fin_in = true end
    if e.fin_out and e.fin_in then e.closing = true end
  end
end

-- INSIDE -> OUTSIDE: the packet p read from na, written to nb.
local function outbound(p, nb)
  local ip = p:ipv4()
  if not ip then return drop("not IPv4") end
  if ip.ttl <= 1 then return drop("TTL exceeded") end
  local proto, l4, sport, dport = ip.proto, nil, nil, 0
  if proto == 6 or proto == 17 then
    l4 = proto == 6 and p:tcp() or p:udp()
    if not l4 then return drop("malformed or fragmented " .. NAMES[proto]) end
    sport, dport = l4.sport, l4.dport
  elseif proto == 1 then
    l4 = p:icmp()
    if not l4 or l4.type ~= 8 then return drop("ICMP other than echo request") end
    sport = l4.id
  else
    return drop("protocol " .. proto)
  end
  local key = proto .. " " .. ip.src .. " " .. sport .. " " .. ip.dst .. " " .. dport
  local e = by_flow[key]
  if not e then
    local port = alloc(proto)
    if not port then return drop("no free public port") end
    e = { key = key, proto = proto, src = ip.src, sport = sport, dst = ip.dst, dport = dport,
      port = port }
    by_flow[key], by_port[proto][port] = e, e
    stats.mappings = stats.mappings + 1
    log("new %s", describe(e))
  end
  e.last = loop.now()
  if proto == 6 then track(e, l4, true) end
  ip.src = PUBLIC          -- fixes the IPv4 and (pseudo-header) TCP/UDP checksums
  ip.ttl = ip.ttl - 1
  if proto == 1 then l4.id = e.port else l4.sport = e.port end
  stats.out = stats.out + 1
  nb:write(p)
end

-- An ICMP error from OUTSIDE about a packet the NAT sent: the quoted
-- header (at qoff) has the public address and port; put back the inside
-- ones there and in the outer destination. Returns the entry or nil.
local function inbound_error(p, ip, qoff)
  local q = p:ipv4(qoff) -- the quoted datagram, when it was quoted whole
  local qproto, qport, qdst, qsrc
  if q then
    qproto, qsrc, qdst = q.proto, q.src, q.dst
  elseif #p >= qoff + 28 and p:u8(qoff) >> 4 == 4 then -- cut short: read the bytes
    qproto, qsrc, qdst = p:u8(qoff + 9), p:sub(qoff + 13, qoff + 16), p:sub(qoff + 17, qoff + 20)
    qsrc = string.format("%d.%d.%d.%d", qsrc:byte(1, 4))
    qdst = string.format("%d.%d.%d.%d", qdst:byte(1, 4))
  else
    return nil
  end
  local qhl = (p:u8(qoff) & 15) * 4
  if qsrc ~= PUBLIC or not by_port[qproto] or #p < qoff + qhl + 8 then return nil end
  qport = p:u16(qoff + qhl + (qproto == 1 and 4 or 0))
  local e = by_port[qproto][qport]
  if not e or e.dst ~= qdst then return nil end
  local l4 = q and (qproto == 6 and p:tcp(qoff) or qproto == 17 and p:udp(qoff)
    or qproto == 1 and p:icmp(qoff))
  if q and l4 then
    -- whole: the views keep the quoted checksums right too
    q.src = e.src
    if qproto == 1 then l4.id = e.sport else l4.sport = e.sport end
  else
    -- cut short: its transport checksum covers bytes that are not here
    local a, b, c, d = e.src:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
    p:set_u32(qoff + 12, tonumber(a) << 24 | tonumber(b) << 16 | tonumber(c) << 8 | tonumber(d))
    p:set_u16(qoff + qhl + (qproto == 1 and 4 or 0), e.sport)
    p:set_u16(qoff + 10, 0)
    p:set_u16(qoff + 10, p:csum(qoff, qhl))
  end
  ip = p:ipv4() -- the quoted view above re-pointed the packet's IPv4 view
  ip.dst = e.src
  p:fix_checksums() -- the ICMP checksum covers the quoted bytes we changed
  return e
end

-- OUTSIDE -> INSIDE: the packet p read from nb, written to na.
local function inbound(p, na)
  local ip = p:ipv4()
  if not ip then return drop("not IPv4") end
  if ip.dst ~= PUBLIC then return drop("not for " .. PUBLIC) end
  if ip.ttl <= 1 then return drop("TTL exceeded") end
  local proto, e = ip.proto, nil
  if proto == 6 or proto == 17 then
    local l4 = proto == 6 and p:tcp() or p:udp()
    if not l4 then return drop("malformed or fragmented " .. NAMES[proto]) end
    e = by_port[proto][l4.dport]
    if not e or e.dst ~= ip.src or e.dport ~= l4.sport then return drop("no mapping") end
    if proto == 6 then track(e, l4, false) end
    ip.dst = e.src
    l4.dport = e.sport
  elseif proto == 1 then
    local icmp = p:icmp()
    if not icmp then return drop("malformed ICMP") end
    local t = icmp.type
    if t == 0 then
      e = by_port[1][icmp.id]
      if not e or e.dst ~= ip.src then return drop("no mapping") end
      ip.dst = e.src
      icmp.id = e.sport
    elseif t == 3 or t == 11 or t == 12 then
      e = inbound_error(p, ip, ip.offset + ip.hlen + 8)
      if not e then return drop("ICMP error without a mapping") end
      ip = p:ipv4()
    else
      return drop("ICMP type " .. t)
    end
  else
    return drop("protocol " .. proto)
  end
  e.last = loop.now()
  ip.ttl = ip.ttl - 1
  stats["in"] = stats["in"] + 1
  na:write(p)
end

local function dump()
  print(string.format("nat: %d out, %d in, %d dropped, %d mappings made", stats.out,
    stats["in"], stats.dropped, stats.mappings))
  local list = {}
  for _, e in pairs(by_flow) do list[#list + 1] = describe(e) end
  table.sort(list)
  for _, s in ipairs(list) do print("  " .. s) end
  for why, n in pairs(why_dropped) do print(string.format("  dropped %d: %s", n, why)) end
end

-- The demo: INSIDE pings, sends UDP and TCP; OUTSIDE listens and says
-- whom it saw. Ends the loop when both are done.
local function demo(pair)
  local b_ip = o.b_addr:match("^[^/]+")
  local outside = lib.spawn_in(pair.b,
    "timeout 6 nc -vn -l 9000 & timeout 6 nc -vn -u -l 9001 & wait")
  local inside = lib.spawn_in(pair.a, string.format(
    "sleep 0.3; ping -c 3 -i 0.2 -W 1 %s; echo 'hello over UDP' | nc -u -w1 %s 9001; " ..
    "echo 'hello over TCP' | nc -N -w2 %s 9000", b_ip, b_ip, b_ip))
  local open = 2
  for _, f in ipairs { { inside, "inside " }, { outside, "outside" } } do
    loop.on_readable(f[1], function(w)
      local line = f[1]:read("l")
      if line then return print(f[2] .. "| " .. line) end
      w:stop()
      f[1]:close()
      open = open - 1
      if open == 0 then loop.stop() end
    end)
  end
end

local function main()
  local pair <close> = lib.pair {
    a = pos[1], b = pos[2], a_dev = "na", b_dev = "nb",
    a_addrs = { o.a_addr }, b_addrs = { o.b_addr },
    a_routes = { lib.network(o.b_addr) },
  }
  local na, nb = pair.ta, pair.tb
  na:on_packet(function(p) outbound(p, nb) end)
  nb:on_packet(function(p) inbound(p, na) end)
  local sweep = loop.every(2, expire)
  local usr1 = loop.on_signal("USR1", dump)
  print(string.format("nat ready: %s (%s) -> %s as %s, ports %d-%d", o.demo and "scratch" or pos[1],
    o.a_addr, o.demo and "scratch" or pos[2], PUBLIC, lo, hi))
  if o.demo then demo(pair) end
  local ok, why = lib.run { timeout = o.seconds }
  usr1:stop()
  sweep:stop()
  dump()
  print("done: " .. tostring(why))
  return ok
end

lib.main("nat.lua", main)
