#!/usr/bin/env vnet
--- port-forward.lua: rewrite destination ports between two network namespaces.
--
-- Run as root (TUN devices and namespaces need CAP_NET_ADMIN):
--
--   vnet scripts/port-forward.lua --demo                 see it work, then exit
--   vnet scripts/port-forward.lua [options] A B [RULE...]
--
-- A and B are network namespaces: an `ip netns` name, a path
-- (/run/netns/NAME, /proc/PID/ns/net) or a pid. The script routes between
-- them through two TUNs it holds: `pa` in A (10.1.0.2/24, fd00:1::2/64)
-- and `pb` in B (10.2.0.2/24, fd00:2::2/64), each with a route to the
-- other's networks. A RULE is [tcp:|udp:]PORT=TOPORT (default 8080=80,
-- for TCP and UDP): a packet from A to B's port PORT goes to TOPORT
-- instead, and B's answers come back from PORT, so A never knows. The
-- rewrite is remembered per connection, so B's own TOPORT stays
-- reachable directly. IPv4 and IPv6; checksums are kept right by the
-- header views (p:tcp().dport = ...). Every other packet passes as it is.
--
-- With --demo the script makes two scratch namespaces itself, serves
-- port 80 in B, connects from A to B's port 8080 over TCP (IPv4 and IPv6)
-- and UDP, prints what each side saw and exits.
--
-- Try it with named namespaces:
--   ip netns add a; ip netns add b
--   vnet scripts/port-forward.lua a b 8080=80 tcp:2222=22 &
--   ip netns exec b nc -vn -l 80 &
--   echo hello | ip netns exec a nc -N 10.2.0.2 8080
--   kill %1; ip netns del a; ip netns del b
--
-- Options:
--   --a-addr CIDR, --b-addr CIDR      IPv4 of pa and pb (10.1.0.2/24, 10.2.0.2/24)
--   --a-addr6 CIDR, --b-addr6 CIDR    IPv6 of pa and pb (fd00:1::2/64, fd00:2::2/64)
--   --seconds N   stop after N seconds (default: until Ctrl-C)
--   -v            print each connection as it is forwarded
--
-- Ctrl-C, SIGTERM or --seconds end the script; its TUNs go with it, and
-- with them their addresses and routes.
local vnet = require "vnet"
local lib = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "_lib.lua")
local loop = vnet.loop

local usage = lib.usage(debug.getinfo(1, "S").source:sub(2))
local o, pos = lib.getopt(arg, {
  a_addr = "10.1.0.2/24", b_addr = "10.2.0.2/24",
  a_addr6 = "fd00:1::2/64", b_addr6 = "fd00:2::2/64",
  seconds = lib.NUMBER, v = false, demo = false,
}, usage)
io.stdout:setvbuf("line")

local function die(msg) lib.die("port-forward.lua", msg, usage) end

-- rules[proto][port] = toport
local rules, nsargs = { [6] = {}, [17] = {} }, {}
local nrules = 0
for _, a in ipairs(pos) do
  if a:find("=", 1, true) then
    local proto, from, to = a:match("^(%a+):(%d+)=(%d+)$")
    if not proto then from, to = a:match("^(%d+)=(%d+)$") end
    from, to = tonumber(from), tonumber(to)
    local protos = proto == "tcp" and { 6 } or proto == "udp" and { 17 }
      or proto == nil and { 6, 17 } or nil
    if not (protos and from and to and from >= 1 and from <= 65535 and to >= 1 and to <= 65535) then
      die("bad rule '" .. a .. "' (want [tcp:|udp:]PORT=TOPORT)")
    end
    for _, p in ipairs(protos) do rules[p][from] = to end
    nrules = nrules + 1
  else
    nsargs[#nsargs + 1] = a
  end
end
if nrules == 0 then rules[6][8080], rules[17][8080] = 80, 80 end
if not o.demo and #nsargs ~= 2 then die("give two namespaces (A B), or --demo") end

-- Connections being forwarded: "proto client cport server" -> { port =
-- the port the client asked for, so the answers can say it again, last =
-- loop.now() of its last packet }. Idle ones go after IDLE seconds.
local conns, IDLE = {}, 300
local stats = { forwarded = 0, answered = 0, passed = 0 }
local NAMES = { [6] = "tcp", [17] = "udp" }

-- A -> B: a packet to a forwarded port goes to the rule's port instead.
local function a_to_b(p)
  local ip = p:ip()
  local l4 = ip and (ip.proto == 6 and p:tcp() or ip.proto == 17 and p:udp())
  local to = l4 and rules[ip.proto][l4.dport]
  if to then
    local key = ip.proto .. " " .. ip.src .. " " .. l4.sport .. " " .. ip.dst
    local c = conns[key]
    if c then
      c.port, c.last = l4.dport, loop.now()
    else
      conns[key] = { port = l4.dport, last = loop.now() }
      if o.v then
        print(string.format("%s [%s]:%d > [%s]:%d goes to port %d", NAMES[ip.proto], ip.src,
          l4.sport, ip.dst, l4.dport, to))
      end
    end
    l4.dport = to -- fixes the TCP/UDP checksum
    stats.forwarded = stats.forwarded + 1
  else
    stats.passed = stats.passed + 1
  end
end

-- B -> A: answers of a forwarded connection come from the port A asked for.
local function b_to_a(p)
  local ip = p:ip()
  local l4 = ip and (ip.proto == 6 and p:tcp() or ip.proto == 17 and p:udp())
  local c = l4 and conns[ip.proto .. " " .. ip.dst .. " " .. l4.dport .. " " .. ip.src]
  if c and rules[ip.proto][c.port] == l4.sport then
    c.last = loop.now()
    l4.sport = c.port
    stats.answered = stats.answered + 1
  else
    stats.passed = stats.passed + 1
  end
end

local function demo(pair)
  local b4, b6 = o.b_addr:match("^[^/]+"), o.b_addr6:match("^[^/]+")
  local side_b = lib.spawn_in(pair.b,
    "timeout 6 nc -vn -l 80 & timeout 6 nc -vn -6 -l 80 & timeout 6 nc -vn -u -l 80 & wait")
  local side_a = lib.spawn_in(pair.a, string.format(
    "sleep 0.3; echo 'hello to port 8080 over TCP' | nc -vn -N -w2 %s 8080; " ..
    "echo 'hello to port 8080 over TCP/IPv6' | nc -vn -N -w2 %s 8080; " ..
    "echo 'hello to port 8080 over UDP' | nc -n -u -w1 %s 8080", b4, b6, b4))
  local open = 2
  for _, f in ipairs { { side_a, "A" }, { side_b, "B" } } do
    loop.on_readable(f[1], function(w)
      local line = f[1]:read("l")
      if line then return print(f[2] .. " | " .. line) end
      w:stop()
      f[1]:close()
      open = open - 1
      if open == 0 then loop.stop() end
    end)
  end
end

local function main()
  local pair <close> = lib.pair {
    a = nsargs[1], b = nsargs[2], a_dev = "pa", b_dev = "pb",
    a_addrs = { o.a_addr, o.a_addr6 }, b_addrs = { o.b_addr, o.b_addr6 },
    a_routes = { lib.network(o.b_addr), lib.network(o.b_addr6) },
    b_routes = { lib.network(o.a_addr), lib.network(o.a_addr6) },
  }
  local pa, pb = pair.ta, pair.tb
  pa:on_packet(a_to_b, { to = pb }) -- the loop writes each packet on
  pb:on_packet(b_to_a, { to = pa })
  local sweep = loop.every(10, function()
    local now = loop.now()
    for k, c in pairs(conns) do if now - c.last > IDLE then conns[k] = nil end end
  end)
  local list = {}
  for proto, r in pairs(rules) do
    for from, to in pairs(r) do list[#list + 1] = NAMES[proto] .. ":" .. from .. "=" .. to end
  end
  table.sort(list)
  print("port-forward ready: " .. table.concat(list, " "))
  if o.demo then demo(pair) end
  local ok, why = lib.run { timeout = o.seconds }
  sweep:stop()
  print(string.format("port-forward: %d forwarded, %d answered, %d passed as they were",
    stats.forwarded, stats.answered, stats.passed))
  print("done: " .. tostring(why))
  return ok
end

lib.main("port-forward.lua", main)
