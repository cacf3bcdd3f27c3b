#!/usr/bin/env vnet
--- dispatch.lua: what one on_packet dispatch costs, in CPU time, which
-- the load of other users of the machine disturbs far less than a
-- throughput figure. A TUN in a fresh namespace carries a ring of 32 UDP
-- packets: the kernel routes each packet written back to the TUN, and the
-- callback writes it again, N times (as spec/loop_spec.lua's ring).
--
--   vnet bench/dispatch.lua [N]     -> "dispatch <N> <CPU us/packet> <kpps>"
--
-- Under `vnet -i` with VNET_DISPATCH_OUT=file it returns to the REPL
-- instead of calling loop.run(): the idle prompt turns the loop, and the
-- result line goes to that file (bench/repl.lua compares the two).
local vnet = require "vnet"
local loop = vnet.loop
local N = tonumber(arg and arg[1]) or 200000
local out = os.getenv("VNET_DISPATCH_OUT")

local ns = assert(vnet.netns.create())
local dev = ns:run(function()
  local d = assert(vnet.tun.open { name = "ring0" })
  assert(d:addr_add("10.77.0.1/24"))
  assert(d:up())
  assert(io.open("/proc/sys/net/ipv4/ip_forward", "w")):write("1"):close()
  for _, k in ipairs { "all", "ring0" } do
    assert(io.open("/proc/sys/net/ipv4/conf/" .. k .. "/send_redirects", "w")):write("0"):close()
  end
  return d
end)
-- IPv4/UDP 10.77.0.2:9 -> 10.77.0.3:9, TTL 64
local p = vnet.packet.new("\x45\x00\x00\x20\x00\x00\x40\x00\x40\x11\x00\x00" ..
  "\x0a\x4d\x00\x02\x0a\x4d\x00\x03" .. "\x00\x09\x00\x09\x00\x0c\x00\x00" .. "ping")
p:set_u16(10, p:csum(0, 20))

local count, c0, t0 = 0, nil, nil
local function report()
  local cpu, wall = os.clock() - c0, loop.now() - t0
  local line = string.format("dispatch %d %.3f %.1f", N, cpu / N * 1e6, N / wall / 1e3)
  if out then
    assert(io.open(out, "w")):write(line, "\n"):close()
  else
    print(line)
  end
end
dev:on_packet(function(pkt, d)
  if pkt:u8(9) ~= 17 then return end
  count = count + 1
  if count == N then report(); loop.stop(); return end
  if count > N then return end
  pkt:set_u8(8, 64)
  pkt:set_u16(10, 0)
  pkt:set_u16(10, pkt:csum(0, 20))
  d:write(pkt)
end)
c0, t0 = os.clock(), loop.now()
for _ = 1, 32 do assert(dev:write(p)) end
if out then return end
local ok, why = loop.run { timeout = 120 }
if count < N then print("dispatch failed", count, ok, why) end
dev:close()
ns:close()
