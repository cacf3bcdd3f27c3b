#!/usr/bin/env vnet
--- arp-responder.lua: answer ARP requests on a TAP device, from Lua.
--
-- Run as root (creating a TAP needs CAP_NET_ADMIN):
--
--   vnet scripts/arp-responder.lua [options] [IP|CIDR ...]
--   vnet scripts/arp-responder.lua --demo        see it work, then exit
--
-- It makes TAP `--dev` (vnet-arp) with address `--addr` (10.3.0.1/24), so
-- the kernel asks who has an address of that network through it, and
-- answers every ARP request for one of the given addresses (default
-- 10.3.0.2; a CIDR such as 10.3.0.0/24 stands for all its addresses) with
-- "IP is-at --mac" (02:00:00:00:03:02), built in place by p:arp_reply().
-- Requests for other addresses, and gratuitous ARP, get no answer. With
-- --ping it also answers ICMP echo requests to those addresses
-- (p:echo_reply(), Ethernet addresses swapped too), so ping works end to
-- end: the kernel first needs the ARP answer, then the echo reply.
--
-- With --demo the script makes a scratch namespace itself, with the TAP in
-- it, pings the first address from there (so the kernel asks ARP first;
-- --ping is implied), shows the neighbour entry the answer made, and
-- exits, leaving nothing behind. Or by hand, in a scratch namespace:
--   unshare -n sh -c 'ip link set lo up; vnet scripts/arp-responder.lua --ping & sleep 0.5;
--     ping -c 2 10.3.0.2; ip neigh show dev vnet-arp'
--
-- Options:
--   --dev NAME     the TAP's name (vnet-arp)
--   --addr CIDR    the TAP's own address (10.3.0.1/24)
--   --mac MAC      the answer (02:00:00:00:03:02)
--   --ping         answer echo requests to those addresses too
--   --seconds N    stop after N seconds (default: until Ctrl-C)
--   -q             do not print a line per answer
--   --demo         make a scratch namespace and traffic, show the answers, exit
--
-- Ctrl-C, SIGTERM or --seconds end it; the TAP goes away with the script.
local vnet = require "vnet"
local lib = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "_lib.lua")

local usage = lib.usage(debug.getinfo(1, "S").source:sub(2))
local o, pos = lib.getopt(arg, {
  dev = "vnet-arp", addr = "10.3.0.1/24", mac = "02:00:00:00:03:02",
  ping = false, seconds = lib.NUMBER, q = false, demo = false,
}, usage)
if o.demo then o.ping = true end
if #pos == 0 then pos = { "10.3.0.2" } end
io.stdout:setvbuf("line")

local function die(msg) lib.die("arp-responder.lua", msg, usage) end

local function ip4(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  a, b, c, d = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
  if not (a and a < 256 and b < 256 and c < 256 and d < 256) then return nil end
  return a << 24 | b << 16 | c << 8 | d
end

-- The addresses to answer for: { net, mask } pairs.
local answer = {}
for _, s in ipairs(pos) do
  local addr, len = s:match("^(.-)/(%d+)$")
  len = tonumber(len or 32)
  local n = ip4(addr or s)
  if not n or len > 32 then die("'" .. s .. "' is not an IPv4 address or CIDR") end
  local mask = len == 0 and 0 or (0xffffffff << (32 - len)) & 0xffffffff
  answer[#answer + 1] = { n & mask, mask }
end
if not o.mac:match("^%x%x[:-]%x%x[:-]%x%x[:-]%x%x[:-]%x%x[:-]%x%x$") then
  die("--mac '" .. o.mac .. "' is not a MAC address")
end
local own = ip4(o.addr:match("^[^/]+") or "")
if not own then die("--addr '" .. o.addr .. "' is not an IPv4 address") end

local function ours(s)
  local n = ip4(s)
  if not n or n == own then return false end
  for _, a in ipairs(answer) do
    if n & a[2] == a[1] then return true end
  end
  return false
end

local function setup()
  local tap = assert(vnet.tap.open { name = o.dev })
  local ok, err = pcall(function()
    assert(tap:addr_add(o.addr))
    assert(tap:up())
  end)
  if not ok then tap:close(); error(err, 0) end
  return tap
end

local function main()
  local ns <close> = o.demo and lib.scratch() or nil
  local tap <close> = ns and ns:run(setup) or setup()
  local answered = 0
  tap:on_packet(function(p, d)
    p:linktype("eth") -- a TAP gives Ethernet frames: no guessing
    local arp = p:arp()
    if arp then
      if arp.op ~= 1 or arp.spa == arp.tpa or not ours(arp.tpa) then return end
      local who, asker = arp.tpa, arp.spa
      assert(p:arp_reply(o.mac))
      assert(d:write(p))
      answered = answered + 1
      if not o.q then print(string.format("%s is-at %s (told %s)", who, o.mac, asker)) end
    elseif o.ping then
      local ip = p:ipv4()
      if ip and ours(ip.dst) and p:echo_reply() then
        assert(d:write(p))
        if not o.q then print(string.format("echo reply %s -> %s", ip.src, ip.dst)) end
      end
    end
  end)
  print(string.format("%s up: %s, answering ARP for %s with %s%s", tap.name, o.addr,
    table.concat(pos, " "), o.mac, o.ping and ", and pings" or ""))
  if ns then
    local target = pos[1]:match("^[^/]+")
    if target:match("%.0$") then target = target:gsub("0$", "1") end -- a CIDR's first host
    lib.demo_traffic(ns, string.format("ping -c 2 -i 0.2 -W 2 %s; ip neigh show dev %s",
      target, o.dev), "ping")
  end
  local ok, why = lib.run { timeout = o.seconds or (ns and 10) }
  print(string.format("%d ARP answers; done: %s", answered, tostring(why)))
  return ok
end

lib.main("arp-responder.lua", main)
