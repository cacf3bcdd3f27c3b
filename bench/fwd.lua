#!/usr/bin/env vnet
--- fwd.lua: the vnet contestants of the benchmark.
--
--   vnet bench/fwd.lua MODE NS_A NS_B
--
-- Opens TUN "fa" in /run/netns/NS_A and "fb" in /run/netns/NS_B, prints
-- "ready", and forwards between them in a Lua callback until SIGTERM.
-- MODE:
--   plain  no offloads: one packet per read and write (as the C loop)
--   seg    offload, Lua sees every segment; writes are coalesced again
--   whole  offload, Lua sees whole superpackets
--   nat    offload, whole superpackets, and the callback rewrites
--          addresses: A talks to 10.200.0.99, which is B's 10.200.0.2
--   natseg as nat, per segment
--   natplain as nat, without offloads: one packet per read and write, as
--          plain (the NAT's own cost, apart from the offload path's)
--   natmap as nat, with vnet.proto.nat (one C call a packet, no view)
--   A mode ending in "-to" (plain-to, natmap-to, ...) forwards the same
--   way with the loop doing the write: fa:on_packet(fn, { to = fb }), fn
--   only rewrites (docs/packets.md: forwarding).
local vnet = require "vnet"

local mode, nsa, nsb = arg[1], arg[2], arg[3]
local base, to = (mode or ""):match("^(.-)(%-to)$")
base = base or mode
local opts = ({
  plain = {}, seg = { offload = true }, whole = { offload = true, segments = false },
  nat = { offload = true, segments = false }, natseg = { offload = true },
  natmap = { offload = true, segments = false }, natplain = {},
})[base]
assert(opts and nsa and nsb, "usage: fwd.lua plain|seg|whole|nat|natseg|natplain|natmap[-to] NS_A NS_B")

local function tun_in(ns, name)
  local n <close> = assert(vnet.netns.open(ns))
  return n:run(function()
    local o = { name = name }
    for k, v in pairs(opts) do o[k] = v end
    return assert(vnet.tun.open(o))
  end)
end

local fa, fb = tun_in(nsa, "fa"), tun_in(nsb, "fb")

-- The two directions' callbacks, as a user writes each form
local ab, ba
if base == "nat" or base == "natseg" or base == "natplain" then
  -- as a user writes it: the IPv4 view's address fields, whose setter
  -- updates the header checksum and the TCP/UDP one through the
  -- pseudo-header (a partial one too, on the offload path) in C
  local VIRT, REAL = "10.200.0.99", "10.200.0.2"
  if to then
    ab = function(p)
      local ip = p:ipv4()
      if ip and ip.dst == VIRT then ip.dst = REAL end
    end
    ba = function(p)
      local ip = p:ipv4()
      if ip and ip.src == REAL then ip.src = VIRT end
    end
  else
    ab = function(p)
      local ip = p:ipv4()
      if ip and ip.dst == VIRT then ip.dst = REAL end
      fb:write(p)
    end
    ba = function(p)
      local ip = p:ipv4()
      if ip and ip.src == REAL then ip.src = VIRT end
      fa:write(p)
    end
  end
elseif base == "natmap" then
  -- the same NAT as a map: a destination 10.200.0.99 becomes 10.200.0.2,
  -- a source 10.200.0.2 becomes 10.200.0.99 again, checksums as above
  local nat = vnet.proto.nat { ["10.200.0.99"] = "10.200.0.2" }
  if to then
    ab = function(p) nat:dst(p) end
    ba = function(p) nat:src(p) end
  else
    ab = function(p) nat:dst(p); fb:write(p) end
    ba = function(p) nat:src(p); fa:write(p) end
  end
elseif to then
  ab = function() end -- the loop writes each packet to `to`
  ba = function() end
else
  ab = function(p) fb:write(p) end
  ba = function(p) fa:write(p) end
end

-- VNET_FWD_STATS=1: count what the callbacks see and print, every second,
-- "stats <packets> <Lua heap KiB>" (bench/memory.lua reads it)
if os.getenv("VNET_FWD_STATS") then
  local n, forward = 0, ab
  ab = function(p) n = n + 1; return forward(p) end
  vnet.loop.every(1, function()
    io.stdout:write(string.format("stats %d %.0f\n", n, collectgarbage("count")))
    io.stdout:flush()
  end)
end
fa:on_packet(ab, to and { to = fb })
fb:on_packet(ba, to and { to = fa })

-- VNET_FWD_READY=file (bench/replfwd.sh, under `vnet -i`): write our pid
-- there and return to the REPL, whose prompt then turns the loop
local ready = os.getenv("VNET_FWD_READY")
if ready then
  local pid = assert(io.open("/proc/self/stat")):read("n")
  assert(io.open(ready, "w")):write(pid, "\n"):close()
  return
end
print("ready", fa.offload or "no-offload")
io.stdout:flush()
local ok, why = vnet.loop.run()
print("fwd", mode, ok, why, "rx", fa.rx_packets, fb.rx_packets)
