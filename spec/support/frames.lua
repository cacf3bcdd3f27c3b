-- spec/support/frames.lua: packets made by hand for the proto specs
-- (string.pack and a checksum written in Lua, not packet.build), so that
-- the views are checked against an independent encoder.
local F = {}

-- an independent Internet checksum (RFC 1071), in Lua
local function csum(s)
  local sum = 0
  if #s % 2 == 1 then s = s .. "\0" end
  for i = 1, #s, 2 do sum = sum + (s:byte(i) << 8 | s:byte(i + 1)) end
  while sum > 0xffff do sum = (sum & 0xffff) + (sum >> 16) end
  return ~sum & 0xffff
end

local function ip4(a, b, c, d) return string.char(a, b, c, d) end
local A, B = ip4(10, 0, 0, 1), ip4(10, 0, 0, 2)

-- IPv4 header with checksum; opts padded by the caller
local function ipv4(proto, src, dst, payload, opts)
  opts = opts or ""
  local ihl = (20 + #opts) // 4
  local h = string.pack(">BBI2I2I2BBI2", 0x40 | ihl, 0, 20 + #opts + #payload, 0x1234,
    0x4000, 64, proto, 0) .. src .. dst .. opts
  return h:sub(1, 10) .. string.pack(">I2", csum(h)) .. h:sub(13) .. payload
end

local function udp4(src, dst, sport, dport, data)
  local u = string.pack(">I2I2I2I2", sport, dport, 8 + #data, 0) .. data
  local c = csum(src .. dst .. string.pack(">BBI2", 0, 17, #u) .. u)
  if c == 0 then c = 0xffff end
  return ipv4(17, src, dst, u:sub(1, 6) .. string.pack(">I2", c) .. u:sub(9))
end

local function tcp4(src, dst, sport, dport, flags, opts, data, ipopts)
  local t = string.pack(">I2I2I4I4I2I2I2I2", sport, dport, 1000, 2000,
    ((20 + #opts) // 4) << 12 | flags, 65535, 0, 0) .. opts .. data
  local c = csum(src .. dst .. string.pack(">BBI2", 0, 6, #t) .. t)
  return ipv4(6, src, dst, t:sub(1, 16) .. string.pack(">I2", c) .. t:sub(19), ipopts)
end

local function icmp4(src, dst, ty, id, seq, data)
  local m = string.pack(">BBI2I2I2", ty, 0, 0, id, seq) .. data
  return ipv4(1, src, dst, m:sub(1, 2) .. string.pack(">I2", csum(m)) .. m:sub(5))
end

local S6 = ("\254\128" .. ("\0"):rep(13) .. "\1")     -- fe80::1
local D6 = ("\254\128" .. ("\0"):rep(13) .. "\2")     -- fe80::2

-- IPv6 with extension headers exts = {{type, bytes}, ...} then proto
local function ipv6(proto, payload, exts)
  exts = exts or {}
  local chain, first = {}, proto
  for i = #exts, 1, -1 do
    local e = exts[i]
    chain[i] = string.char(first) .. e[2]
    first = e[1]
  end
  local ext = table.concat(chain)
  return string.pack(">I4I2BB", 0x60000000, #ext + #payload, first, 64) .. S6 .. D6 .. ext .. payload
end

local function udp6(sport, dport, data, exts)
  local u = string.pack(">I2I2I2I2", sport, dport, 8 + #data, 0) .. data
  local c = csum(S6 .. D6 .. string.pack(">I4I4", #u, 17) .. u)
  return ipv6(17, u:sub(1, 6) .. string.pack(">I2", c) .. u:sub(9), exts)
end

local function icmp6(ty, id, seq, data)
  local m = string.pack(">BBI2I2I2", ty, 0, 0, id, seq) .. data
  local c = csum(S6 .. D6 .. string.pack(">I4I4", #m, 58) .. m)
  return ipv6(58, m:sub(1, 2) .. string.pack(">I2", c) .. m:sub(5))
end

local MAC1, MAC2 = "\2\0\0\0\0\1", "\2\0\0\0\0\2"
local function eth(type_, body, tags)
  return MAC2 .. MAC1 .. (tags or "") .. string.pack(">I2", type_) .. body
end

local function arp(op, sha, spa, tha, tpa)
  return string.pack(">I2I2BBI2", 1, 0x0800, 6, 4, op) .. sha .. spa .. tha .. tpa
end

-- 8 bytes of padding for an options extension header (hdr len 0)
local PAD6 = "\0\1\4\0\0\0\0" -- next header is prepended: 1 + 7 bytes

F.csum = csum
F.ip4 = ip4
F.ipv4 = ipv4
F.udp4 = udp4
F.tcp4 = tcp4
F.icmp4 = icmp4
F.ipv6 = ipv6
F.udp6 = udp6
F.icmp6 = icmp6
F.eth = eth
F.arp = arp
F.A = A
F.B = B
F.S6 = S6
F.D6 = D6
F.MAC1 = MAC1
F.MAC2 = MAC2
F.PAD6 = PAD6
return F
