-- A TUN whose packets the kernel sends straight back into it: it is on
-- net .. ".1/24", and the route to the others in that net is the TUN
-- itself, so a packet written to it for net .. ".3" is forwarded and read
-- again (a TTL less). A callback that writes what it reads keeps a ring
-- of packets going with no tool outside. No IPv6 on it: the kernel's own
-- packets (DAD, MLD, router solicitations, a second or more after it
-- comes up) would land in the middle of what a spec counts.
local R = {}

--- The ring TUN `name` on net ("10.77.0"), up, in the current namespace.
function R.open(name, net)
  assert(io.open("/proc/sys/net/ipv6/conf/default/disable_ipv6", "w")):write("1"):close()
  local dev = assert(vnet.tun.open { name = name })
  assert(dev:addr_add(net .. ".1/24"))
  assert(dev:up())
  assert(io.open("/proc/sys/net/ipv4/ip_forward", "w")):write("1"):close()
  for _, c in ipairs { "all", name } do
    assert(io.open("/proc/sys/net/ipv4/conf/" .. c .. "/send_redirects", "w")):write("0"):close()
  end
  return dev
end

--- IPv4/UDP net.2:9 -> net.3:9 with a 4-byte payload, TTL ttl (64),
-- the header checksum set: 32 bytes that go round the ring.
function R.udp(net, payload, ttl)
  assert(#payload == 4, "a ring packet carries 4 bytes")
  local a, b, c = net:match("^(%d+)%.(%d+)%.(%d+)$")
  local pre = string.char(tonumber(a), tonumber(b), tonumber(c))
  local p = vnet.packet.new("\x45\x00\x00\x20\x00\x00\x40\x00" .. string.char(ttl or 64) .. "\x11\x00\x00" ..
    pre .. "\x02" .. pre .. "\x03" .. "\x00\x09\x00\x09\x00\x0c\x00\x00" .. payload)
  p:set_u16(10, p:csum(0, 20))
  return p
end

--- Put back the TTL the kernel's forwarding took, and the header checksum.
function R.renew(p)
  p:set_u8(8, 64)
  p:set_u16(10, 0)
  p:set_u16(10, p:csum(0, 20))
end

return R
