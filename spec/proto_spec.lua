-- vnet.proto: header views, field setters that keep checksums right,
-- malformed input, the tostring summary, and no allocation in steady state.
-- Packets here are made by hand (string.pack and a checksum written in Lua),
-- not by packet.build, so the views are checked against an independent
-- encoder; tcpdump and tshark are the witnesses where files are involved.
local H = require "spec.helper"
local packet = vnet.packet

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

describe("vnet.proto", function()
  it("adds no globals", function() H.adds_no_globals("vnet.proto") end)

  describe("views", function()
    it("read IPv4 and UDP fields by name", function()
      local p = packet.new(udp4(A, B, 5000, 53, "hello world!"))
      local ip = assert(p:ipv4())
      assert.are.same({ 4, 5, 20, 40, 0x1234, true, false, 0, 64, 17, "10.0.0.1", "10.0.0.2", 4 },
        { ip.version, ip.ihl, ip.hlen, ip.len, ip.id, ip.df, ip.mf, ip.frag, ip.ttl, ip.proto,
          ip.src, ip.dst, ip.family })
      assert.are.equal(p:u16(10), ip.csum)
      local u = assert(p:udp())
      assert.are.same({ 5000, 53, 20, 20, 8, "hello world!" },
        { u.sport, u.dport, u.len, u.offset, u.hlen, u.payload })
      assert.has_error(function() return ip.nosuch end, "ipv4 has no field 'nosuch'")
      assert.is_true(p:checksums_ok())
    end)

    it("are one cached window per packet and kind, not copies", function()
      local p = packet.new(udp4(A, B, 1, 2, "x"))
      assert.are.equal(p:ipv4(), p:ipv4())
      assert.are.equal(p:ipv4(), p:ip())
      assert.are.equal(p:udp(), p:udp())
      p:set_u8(8, 7) -- the view sees changes made through the packet
      assert.are.equal(7, p:ipv4().ttl)
      p:ipv4().ttl = 9
      assert.are.equal(9, p:u8(8))
      assert.matches("^vnet%.ipv4: header at offset 0, 20 bytes$", tostring(p:ipv4()))
    end)

    it("read IPv4 options and TCP options (mss, wscale, sack_ok, timestamps)", function()
      local opts = "\2\4\5\180" .. "\4\2" .. "\8\10\0\0\0\1\0\0\0\2" .. "\1\3\3\7"
      local p = packet.new(tcp4(A, B, 80, 4711, 0x12, opts, "", "\1\1\1\0"))
      local ip = assert(p:ipv4())
      assert.are.same({ 6, 24, "\1\1\1\0" }, { ip.ihl, ip.hlen, ip.options })
      local t = assert(p:tcp())
      assert.are.same({ 80, 4711, 1000, 2000, 10, 40, 0x12, true, true, false, false, 65535 },
        { t.sport, t.dport, t.seq, t.ack, t.doff, t.hlen, t.flags, t.SYN, t.ACK, t.FIN, t.RST, t.win })
      assert.are.same({ 1460, 7, true, 1, 2, opts }, { t.mss, t.wscale, t.sack_ok, t.tsval, t.tsecr, t.options })
      local bare = packet.new(tcp4(A, B, 1, 2, 0x10, "", "data"))
      local b = bare:tcp()
      assert.is_nil(b.mss); assert.is_nil(b.sack_ok); assert.are.equal("", b.options)
      assert.are.equal("data", b.payload)
      assert.has_error(function() b.mss = 1200 end, "tcp.mss: the segment has no such option")
    end)

    it("read ICMP echo", function()
      local p = packet.new(icmp4(A, B, 8, 7, 1, ("x"):rep(56)))
      local m = assert(p:icmp())
      assert.are.same({ 8, 0, 7, 1, 8, 56 }, { m.type, m.code, m.id, m.seq, m.hlen, #m.payload })
      local e6 = packet.new(icmp6(128, 1, 1, "")):icmp6()
      assert.is_nil(e6.target) -- too short to have one: not there, no error
      assert.is_nil(p:udp())
      local _, why = p:udp()
      assert.are.equal("udp: not udp (protocol 1)", why)
      assert.is_nil(p:icmp6())
    end)

    it("read Ethernet with 802.1Q and 802.1ad tags, and what follows", function()
      local tags = "\136\168\0\100" .. "\129\0\160\5" -- 0x88a8 vid 100, 0x8100 pcp 5 vid 5
      local p = packet.new(eth(0x0800, udp4(A, B, 1, 2, "x"), tags))
      p:linktype("eth")
      local e = assert(p:eth())
      assert.are.same({ "02:00:00:00:00:02", "02:00:00:00:00:01", 0x0800, 2, 100, 0, 22 },
        { e.dst, e.src, e.type, e.tags, e.vlan, e.pcp, e.hlen })
      assert.are.same({ 0x8100, 5, false, 5 }, { e:tag(2) })
      assert.is_nil(e:tag(3))
      assert.are.equal(22, p:ipv4().offset)
      assert.are.equal(42, p:udp().offset)
      e.vlan = 4094
      e.pcp = 3
      assert.are.same({ 0x88a8, 3, false, 4094 }, { e:tag(1) })
      e.src = "AA-bb-cc-dd-ee-ff"
      assert.are.equal("aa:bb:cc:dd:ee:ff", e.src)
      assert.is_true(p:checksums_ok())
      local plain = packet.new(eth(0x0800, udp4(A, B, 1, 2, "x")))
      plain:linktype("eth")
      assert.is_nil(plain:eth().vlan)
      assert.has_error(function() plain:eth().vlan = 5 end, "eth.vlan: the frame has no VLAN tag")
    end)

    it("read ARP", function()
      local p = packet.new(eth(0x0806, arp(1, MAC1, A, ("\0"):rep(6), B)))
      local a = assert(p:arp())
      assert.are.same({ 1, 0x0800, 6, 4, 1, "02:00:00:00:00:01", "10.0.0.1", "00:00:00:00:00:00",
        "10.0.0.2" }, { a.htype, a.ptype, a.hsize, a.psize, a.op, a.sha, a.spa, a.tha, a.tpa })
      assert.is_nil(p:ip())
      local _, why = p:ipv4()
      assert.are.equal("ipv4: not IP (ethertype 0x0806)", why)
    end)

    it("walk IPv6 extension headers to the transport", function()
      local p = packet.new(udp6(1000, 2000, "six", { { 0, PAD6 }, { 60, PAD6 }, { 43, "\0\2\0\0\0\0\0" } }))
      local ip = assert(p:ipv6())
      assert.are.same({ 6, 0, 64, 64, "fe80::1", "fe80::2", 17, 64, 6 },
        { ip.version, ip.nh, ip.hlim, ip.ttl, ip.src, ip.dst, ip.proto, ip.hlen, ip.family })
      local u = assert(p:udp())
      assert.are.same({ 64, 1000, 2000, "six" }, { u.offset, u.sport, u.dport, u.payload })
      assert.is_true(p:checksums_ok())
      assert.are.equal(p:ipv6(), p:ip())
      local _, why = p:ipv4()
      assert.are.equal("ipv4: not IPv4 (IPv6)", why)
    end)

    it("find no transport in a later fragment", function()
      local frag6 = "\0\0\1\0\0\0\7" -- offset 32 (in 8-byte units 4 << 3 = 0x20), id 7
      local p = packet.new(ipv6(17, ("z"):rep(16), { { 44, "\0\0\32\0\0\0\7" } }))
      assert.truthy(frag6)
      assert.truthy(p:ipv6())
      local u, why = p:udp()
      assert.is_nil(u)
      assert.are.equal("udp: not the first fragment", why)
      local f4 = packet.new(udp4(A, B, 1, 2, "x"))
      f4:set_u16(6, 0x0010); f4:fix_checksums()
      assert.are.same({ nil, "udp: not the first fragment" }, { f4:udp() })
      assert.are.equal(16, f4:ipv4().frag)
    end)

    it("take an explicit network-layer offset", function()
      local s = udp4(A, B, 7, 9, "off")
      local p = packet.new("JUNK" .. s)
      assert.are.equal(4, p:ipv4(4).offset)
      assert.are.equal(9, p:udp(4).dport)
      assert.is_true(p:checksums_ok(4))
      assert.has_error(function() p:ipv4(-1) end)
      assert.are.same({ nil, "ipv4: offset 99 past the end (35 bytes)" }, { p:ipv4(99) })
    end)
  end)

  describe("link type", function()
    it("is guessed from the bytes and can be set", function()
      local raw = packet.new(udp4(A, B, 1, 2, "x"))
      assert.are.same({ "raw", true }, { raw:linktype() })
      local frame = packet.new(eth(0x0800, udp4(A, B, 1, 2, "x")))
      assert.are.same({ "eth", true }, { frame:linktype() })
      frame:linktype("raw")
      assert.are.same({ "raw", false }, { frame:linktype() })
      assert.is_nil(frame:eth())
      frame:linktype("auto")
      assert.are.same({ "eth", true }, { frame:linktype() })
      assert.has_error(function() frame:linktype("token-ring") end)
    end)

    it("finds IP after an Ethernet header whose destination MAC starts with 0x4_", function()
      -- a TAP's random MAC can start with 0x45: not mistaken for IPv4
      local s = "\69\0\0\0\0\1" .. MAC1 .. "\8\0" .. udp4(A, B, 1, 2, "x")
      local p = packet.new(s)
      assert.are.equal("eth", p:linktype())
      assert.are.equal(14, p:ipv4().offset)
    end)

    it("is kept by copy", function()
      local p = packet.new(udp4(A, B, 1, 2, "x"))
      p:linktype("eth")
      assert.are.same({ "eth", false }, { p:copy():linktype() })
    end)
  end)

  describe("setting fields", function()
    it("updates the IPv4 header checksum incrementally", function()
      local p = packet.new(udp4(A, B, 1, 2, "x"))
      local ip = p:ipv4()
      ip.ttl = 1; ip.tos = 0xb8; ip.id = 0xffff; ip.df = false; ip.mf = true; ip.frag = 0
      ip.proto = 17
      assert.are.same({ 1, 0xb8, 46, 0, 0xffff, false, true }, { ip.ttl, ip.tos, ip.dscp, ip.ecn, ip.id, ip.df, ip.mf })
      assert.are.equal(0, csum(p:sub(1, 20)))
      assert.is_true(p:checksums_ok())
    end)

    it("updates TCP/UDP checksums through the pseudo-header when addresses change", function()
      for _, s in ipairs { udp4(A, B, 1, 2, "abc"), tcp4(A, B, 1, 2, 0x18, "", "payload") } do
        local p = packet.new(s)
        local ip = p:ip()
        ip.src = "192.168.77.1"
        ip.dst = 0x01020304
        assert.are.equal("1.2.3.4", ip.dst)
        assert.is_true(p:checksums_ok())
        local ref = p:copy()
        ref:fix_checksums()
        assert.are.equal(ref:sub(), p:sub())
      end
      local p6 = packet.new(udp6(1, 2, "x"))
      p6:ipv6().dst = "2001:db8::42"
      assert.are.equal("2001:db8::42", p6:ipv6().dst)
      assert.is_true(p6:checksums_ok())
      local i6 = packet.new(icmp6(128, 1, 1, "ping"))
      i6:ip().src = "fd00::7"
      assert.is_true(i6:checksums_ok())
    end)

    it("leaves a zero (absent) UDP checksum over IPv4 alone", function()
      local p = packet.new(udp4(A, B, 1, 2, "x"))
      p:set_u16(26, 0)
      p:udp().dport = 53
      p:ipv4().src = "10.1.1.1"
      assert.are.equal(0, p:u16(26))
      assert.is_true(p:checksums_ok())
    end)

    it("agrees with a full recomputation after any sequence of sets (random)", function()
      math.randomseed(4)
      local sets = {
        function(p) p:ipv4().ttl = math.random(0, 255) end,
        function(p) p:ipv4().id = math.random(0, 0xffff) end,
        function(p) p:ipv4().src = math.random(0, 0xffffffff) end,
        function(p) p:ipv4().dst = math.random(0, 0xffffffff) end,
        function(p) p:ipv4().tos = math.random(0, 255) end,
        function(p) local t = p:udp() or p:tcp(); t.sport = math.random(0, 0xffff) end,
        function(p) local t = p:udp() or p:tcp(); t.dport = math.random(0, 0xffff) end,
        function(p) local t = p:tcp(); if t then t.seq = math.random(0, 0xffffffff) end end,
        function(p) local t = p:tcp(); if t then t.flags = math.random(0, 0x1ff) end end,
        function(p) local t = p:tcp(); if t then t.win = math.random(0, 0xffff) end end,
        function(p) local t = p:tcp(); if t and t.mss then t.mss = math.random(0, 0xffff) end end,
      }
      for round = 1, 300 do
        local data = ("d"):rep(math.random(0, 9))
        local p = packet.new(round % 2 == 0 and udp4(A, B, 1, 2, data)
          or tcp4(A, B, 1, 2, 0x10, "\1\2\4\5\180\0\0\0", data))
        for _ = 1, 5 do sets[math.random(#sets)](p) end
        local ref = p:copy()
        assert(ref:fix_checksums())
        assert.are.equal(ref:hex(), p:hex())
        assert.is_true(p:checksums_ok())
      end
    end)

    it("keeps ICMP and ICMPv6 checksums right", function()
      local p = packet.new(icmp4(A, B, 8, 7, 1, "abc"))
      local m = p:icmp()
      m.type = 0; m.id = 99; m.seq = 0xffff
      assert.is_true(p:checksums_ok())
      local q = packet.new(icmp6(128, 1, 1, "ping"))
      local n = q:icmp6()
      n.type = 129; n.seq = 5
      assert.is_true(q:checksums_ok())
    end)

    it("counts the UDP length twice (header and pseudo-header)", function()
      -- two zero bytes after the UDP datagram, inside the IP datagram:
      -- covering them changes only the length fields in the sum
      local p = packet.new(udp4(A, B, 1, 2, "abcd") .. "\0\0")
      p:ipv4().len = 34
      assert.is_true(p:checksums_ok())
      p:udp().len = 14
      assert.are.equal(14, p:udp().len)
      assert.is_true(p:checksums_ok())
      assert.are.equal(6, #p:udp().payload)
    end)

    it("sets IPv6 fields and the protocol after extension headers", function()
      local p = packet.new(udp6(1, 2, "x", { { 60, PAD6 } }))
      local ip = p:ipv6()
      ip.tc = 0xb8; ip.flow = 0xfffff; ip.hlim = 1
      assert.are.same({ 0xb8, 0xfffff, 1, 6 }, { ip.tc, ip.flow, ip.hlim, ip.version })
      ip.proto = 59
      assert.are.equal(59, p:u8(40))
      assert.are.equal(60, ip.nh)
    end)

    it("sets the MSS option (clamping) and keeps the TCP checksum", function()
      local p = packet.new(tcp4(A, B, 1, 2, 0x02, "\1\2\4\5\180\1\1\0", ""))
      local t = p:tcp()
      assert.are.equal(1460, t.mss)
      t.mss = 1200
      assert.are.equal(1200, t.mss)
      assert.is_true(p:checksums_ok())
    end)

    it("sets TCP flags one by one", function()
      local p = packet.new(tcp4(A, B, 1, 2, 0x02, "", ""))
      local t = p:tcp()
      t.ACK = true; t.SYN = false; t.FIN = true
      assert.are.equal(0x11, t.flags)
      assert.is_true(p:checksums_ok())
    end)

    it("rejects unknown fields, read-only fields, bad values", function()
      local p = packet.new(udp4(A, B, 1, 2, "x"))
      local ip, u = p:ipv4(), p:udp()
      assert.has_error(function() ip.sorce = "1.2.3.4" end, "ipv4 has no field 'sorce'")
      assert.has_error(function() ip.version = 6 end, "ipv4.version is read-only")
      assert.has_error(function() ip.ttl = 256 end, "ipv4.ttl: value 256 out of range 0..255")
      assert.has_error(function() ip.ttl = "x" end, "ipv4.ttl must be an integer (got string)")
      assert.has_error(function() ip.df = 1 end)
      assert.has_error(function() ip.src = "10.0.0" end, "ipv4.src: '10.0.0' is not an IPv4 address")
      assert.has_error(function() ip.src = {} end, "ipv4.src: table is not an IPv4 address")
      assert.has_error(function() u.dport = -1 end, "udp.dport: value -1 out of range 0..65535")
      assert.has_error(function() u.payload = "x" end, "udp.payload is read-only")
      local e = packet.new(eth(0x0800, udp4(A, B, 1, 2, "x"))):eth()
      assert.has_error(function() e.src = "02:00:00:00:00" end,
        "eth.src: '02:00:00:00:00' is not a MAC address")
      local v6 = packet.new(udp6(1, 2, "x")):ipv6()
      assert.has_error(function() v6.src = "10.0.0.1" end, "ipv6.src: '10.0.0.1' is not an IPv6 address")
    end)

    it("raises, never reads past the end, when the packet shrank under a view", function()
      local p = packet.new(udp4(A, B, 1, 2, "hello"))
      local u = p:udp()
      p:resize(22)
      assert.has_error(function() return u.dport end,
        "udp.dport: bytes 22-23 are past the end of the packet (take a new view after changing the packet)")
      assert.has_error(function() u.dport = 1 end)
      assert.has_error(function() return u.payload end)
      assert.is_nil(p:udp())
    end)
  end)

  describe("malformed input", function()
    local function probe(p, l3)
      -- every view and every field of what comes back; must not crash
      for _, kind in ipairs { "eth", "arp", "ipv4", "ipv6", "ip", "icmp", "icmp6", "udp", "tcp" } do
        local v, why = p[kind](p, l3)
        if v then
          local fam = kind == "ip" and v.family -- unknown fields raise: ask only "ip"
          for _, f in ipairs(vnet.proto.fields[fam and (fam == 4 and "ipv4" or "ipv6")
              or kind]) do
            local _ = v[f]
          end
        else
          assert.is_string(why)
        end
      end
      local ok, why = p:checksums_ok(l3)
      assert.is_true(ok == true or ok == false or (ok == nil and type(why) == "string"))
      assert.is_string(tostring(p))
      assert.is_string(p:dump())
      local c = p:copy()
      c:fix_checksums(l3); c:swap(l3); c:echo_reply(l3); c:arp_reply("02:00:00:00:00:09", l3)
    end

    it("truncated at every length gives nil, reason (IPv4, IPv6, ARP, Ethernet)", function()
      local tcpopts = "\2\4\5\180\4\2\8\10\0\0\0\1\0\0\0\2\1\3\3\7"
      local full = {
        { "raw", tcp4(A, B, 80, 4711, 0x12, tcpopts, "data", "\1\1\1\0") },
        { "raw", udp6(1, 2, "six", { { 0, PAD6 }, { 44, "\0\0\1\0\0\0\7" } }) },
        { "raw", icmp6(128, 1, 1, "ping") },
        { "raw", icmp4(A, B, 8, 1, 1, "ping") },
        { "eth", eth(0x0806, arp(1, MAC1, A, MAC2, B)) },
        { "eth", eth(0x0800, udp4(A, B, 1, 2, "x"), "\129\0\0\5\129\0\0\6") },
      }
      for _, case in ipairs(full) do
        local link, s = case[1], case[2]
        for n = 0, #s do
          local p = packet.new(s:sub(1, n))
          p:linktype(link)
          probe(p)
          if n < #s then
            local want = link == "eth" and (s:byte(13) == 8 and s:byte(14) == 6 and "arp" or "udp")
              or (s:byte(1) >> 4 == 4 and (s:byte(10) == 6 and "tcp" or "icmp"))
              or (s:byte(7) == 58 and "icmp6" or "ipv6")
            local v, why = p[want](p)
            assert.is_nil(v, want .. " at " .. n .. " bytes")
            assert.is_string(why)
          end
        end
      end
    end)

    it("rejects a bad IHL and lengths past the end, saying why", function()
      local s = udp4(A, B, 1, 2, "x")
      local function with(off, byte, link)
        local p = packet.new(s:sub(1, off) .. string.char(byte) .. s:sub(off + 2))
        p:linktype(link or "raw")
        return p
      end
      assert.are.same({ nil, "ipv4: bad IHL 4 (header length 16 < 20)" }, { with(0, 0x44):ipv4() })
      assert.are.same({ nil, "ipv4: header length 60 runs past the end (29 bytes)" },
        { with(0, 0x4f):ipv4() })
      assert.are.same({ nil, "ipv4: total length 255 runs past the end (29 bytes)" },
        { with(3, 0xff):ipv4() })
      assert.are.same({ nil, "ipv4: total length 19 shorter than the header (20)" },
        { with(3, 19):ipv4() })
      assert.are.same({ nil, "udp: length 255 runs past the end of the IP payload (9 bytes)" },
        { with(25, 0xff):udp() })
      assert.are.same({ nil, "udp: length 7 < 8" }, { with(25, 7):udp() })
      local t = tcp4(A, B, 1, 2, 0x10, "", "")
      local p = packet.new(t:sub(1, 32) .. "\64" .. t:sub(34))
      assert.are.same({ nil, "tcp: bad data offset 4 (header length 16 < 20)" }, { p:tcp() })
      p = packet.new(t:sub(1, 32) .. "\240" .. t:sub(34))
      assert.are.same({ nil, "tcp: header length 60 runs past the end of the IP payload (20 bytes)" },
        { p:tcp() })
      assert.are.same({ nil, "ipv4: truncated header (3 of 20 bytes)" },
        { packet.new("\69\0\0"):ipv4() })
      assert.are.same({ nil, "ipv4: version 5, not 4" }, { with(0, 0x55):ipv4() })
    end)

    it("rejects IPv6 extension header loops and overlong chains", function()
      local loop = packet.new(udp6(1, 2, "x", { { 43, PAD6 }, { 43, PAD6 } }))
      assert.are.same({ nil, "ipv6: extension header loop (header 43 repeated)" }, { loop:ipv6() })
      local hbh = packet.new(udp6(1, 2, "x", { { 60, PAD6 }, { 0, PAD6 } }))
      assert.are.same({ nil, "ipv6: extension header loop (hop-by-hop options after another header)" },
        { hbh:ipv6() })
      local three = packet.new(udp6(1, 2, "x", { { 60, PAD6 }, { 60, PAD6 }, { 60, PAD6 } }))
      assert.are.same({ nil, "ipv6: extension header loop (header 60 repeated)" }, { three:udp() })
      local two = packet.new(udp6(1, 2, "x", { { 60, PAD6 }, { 43, PAD6 }, { 60, PAD6 } }))
      assert.truthy(two:udp()) -- destination options twice is allowed
      -- an extension header claiming more than the payload
      local long = packet.new(udp6(1, 2, "x", { { 60, "\200\0\0\0\0\0\0" } }))
      assert.are.same({ nil, "ipv6: extension header 60 length 1608 runs past the end (17 bytes)" },
        { long:ipv6() })
      assert.are.same({ nil, "ipv6: payload length 200 runs past the end (9 bytes after the header)" },
        { packet.new(udp6(1, 2, "x"):sub(1, 4) .. "\0\200" .. udp6(1, 2, "x"):sub(7)):ipv6() })
    end)

    it("survives random bytes at every view and field", function()
      math.randomseed(44)
      local seeds = { udp4(A, B, 1, 2, "x"), udp6(1, 2, "x", { { 0, PAD6 } }),
        eth(0x0806, arp(1, MAC1, A, MAC2, B)), tcp4(A, B, 1, 2, 0x12, "\2\4\5\180", "") }
      for i = 1, 3000 do
        local s = seeds[i % #seeds + 1]
        local b = { s:byte(1, -1) }
        for _ = 1, math.random(1, 4) do
          b[math.random(#b)] = math.random(0, 255)
        end
        local n = math.random(0, #b)
        local p = packet.new(string.char(table.unpack(b, 1, n)))
        if i % 3 == 0 then p:linktype("eth") elseif i % 3 == 1 then p:linktype("raw") end
        probe(p)
        if n > 4 then probe(p, math.random(0, 4)) end
      end
    end)
  end)

  describe("checksums", function()
    it("fix_checksums recomputes everything and checksums_ok says which is wrong", function()
      local p = packet.new(tcp4(A, B, 1, 2, 0x18, "", "payload"))
      p:set_u16(10, 0x1111)
      assert.are.same({ false, string.format("ipv4 header checksum 0x1111 is wrong (should be 0x%04X)",
        csum(p:sub(1, 10) .. "\0\0" .. p:sub(13, 20))) }, { p:checksums_ok() })
      p:fix_checksums()
      local good = p:u16(36)
      p:set_u16(36, good ~ 0xff)
      assert.are.same({ false, string.format("tcp checksum 0x%04X is wrong (should be 0x%04X)",
        good ~ 0xff, good) }, { p:checksums_ok() })
      assert.is_true(p:fix_checksums())
      assert.are.equal(good, p:u16(36))
      assert.is_true(p:checksums_ok())
      assert.are.equal(tcp4(A, B, 1, 2, 0x18, "", "payload"), p:sub())
    end)

    it("is a no-op for ARP and says nothing is wrong", function()
      local p = packet.new(eth(0x0806, arp(1, MAC1, A, MAC2, B)))
      assert.is_true(p:fix_checksums())
      assert.is_true(p:checksums_ok())
    end)

    it("reports a malformed packet as nil, reason", function()
      assert.are.same({ nil, "ipv4: truncated header (3 of 20 bytes)" },
        { packet.new("\69\0\0"):fix_checksums() })
      -- a UDP length past the end: the IP header is fixed, the UDP one cannot be
      local p = packet.new(udp4(A, B, 1, 2, "abc"))
      p:set_u16(24, 99)
      p:set_u16(10, 0)
      local why = "udp: length 99 runs past the end of the IP payload (11 bytes)"
      assert.are.same({ nil, why }, { p:checksums_ok() })
      assert.are.same({ nil, why }, { p:fix_checksums() })
      assert.are.equal(0, csum(p:sub(1, 20)))
    end)
  end)

  describe("reply helpers", function()
    it("swap addresses and ports in place; checksums stay right", function()
      local p = packet.new(eth(0x0800, tcp4(A, B, 1234, 80, 0x18, "", "hi")))
      p:linktype("eth")
      assert.is_true(p:swap())
      assert.are.same({ "02:00:00:00:00:01", "02:00:00:00:00:02", "10.0.0.2", "10.0.0.1", 80, 1234 },
        { p:eth().dst, p:eth().src, p:ip().src, p:ip().dst, p:tcp().sport, p:tcp().dport })
      assert.is_true(p:checksums_ok())
    end)

    it("turns an echo request into an echo reply (ICMP and ICMPv6)", function()
      local p = packet.new(icmp4(A, B, 8, 7, 3, "abc"))
      assert.is_true(p:echo_reply())
      assert.are.same({ 0, "10.0.0.2", "10.0.0.1", 7, 3 },
        { p:icmp().type, p:ip().src, p:ip().dst, p:icmp().id, p:icmp().seq })
      assert.is_true(p:checksums_ok())
      assert.are.same({ nil, "echo_reply: not an echo request (icmp type 0)" }, { p:echo_reply() })
      local q = packet.new(icmp6(128, 1, 2, "ping"))
      assert.is_true(q:echo_reply())
      assert.are.equal(129, q:icmp6().type)
      assert.is_true(q:checksums_ok())
      assert.are.same({ nil, "echo_reply: not an ICMP or ICMPv6 packet" },
        { packet.new(udp4(A, B, 1, 2, "")):echo_reply() })
    end)

    it("turns an ARP request into the reply", function()
      local p = packet.new(eth(0x0806, arp(1, MAC1, A, ("\0"):rep(6), B)))
      assert.is_true(p:arp_reply("02:00:00:00:00:99"))
      local a, e = p:arp(), p:eth()
      assert.are.same({ 2, "02:00:00:00:00:99", "10.0.0.2", "02:00:00:00:00:01", "10.0.0.1" },
        { a.op, a.sha, a.spa, a.tha, a.tpa })
      assert.are.same({ "02:00:00:00:00:01", "02:00:00:00:00:99" }, { e.dst, e.src })
      assert.are.same({ nil, "arp_reply: not an ARP request (op 2)" }, { p:arp_reply("02:00:00:00:00:99") })
      assert.has_error(function() p:arp_reply("nope") end)
    end)
  end)

  describe("tostring and dump", function()
    it("summarize like tcpdump", function()
      assert.are.equal("IP 10.0.0.1.5000 > 10.0.0.2.53: UDP, length 12",
        tostring(packet.new(udp4(A, B, 5000, 53, "hello world!"))))
      assert.are.equal("IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 64",
        tostring(packet.new(icmp4(A, B, 8, 7, 1, ("x"):rep(56)))))
      assert.are.equal("IP 10.0.0.1.80 > 10.0.0.2.4711: Flags [S.], seq 1000, ack 2000, win 65535, length 0",
        tostring(packet.new(tcp4(A, B, 80, 4711, 0x12, "", ""))))
      assert.are.equal("IP 10.0.0.1.80 > 10.0.0.2.4711: Flags [P.], seq 1000:1004, ack 2000, win 65535, length 4",
        tostring(packet.new(tcp4(A, B, 80, 4711, 0x18, "", "data"))))
      assert.are.equal("IP6 fe80::1.1000 > fe80::2.2000: UDP, length 3",
        tostring(packet.new(udp6(1000, 2000, "six", { { 0, PAD6 } }))))
      assert.are.equal("IP6 fe80::1 > fe80::2: ICMP6, echo request, id 1, seq 2, length 12",
        tostring(packet.new(icmp6(128, 1, 2, "ping"))))
      assert.are.equal("ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28",
        tostring(packet.new(eth(0x0806, arp(1, MAC1, A, MAC2, B)))))
      assert.are.equal("vlan 5, IP 10.0.0.1.1 > 10.0.0.2.2: UDP, length 1",
        tostring(packet.new(eth(0x0800, udp4(A, B, 1, 2, "x"), "\129\0\0\5"))))
      assert.are.equal("vnet.packet: 5 bytes", tostring(packet.new("hello")))
      assert.are.equal("vnet.packet: 0 bytes", tostring(packet.new("")))
      local t = packet.new("\69\0\0")
      t:linktype("raw")
      assert.are.equal("vnet.packet: 3 bytes (ipv4: truncated header (3 of 20 bytes))", tostring(t))
      local x = packet.new(MAC2 .. MAC1 .. "\136\181" .. "xx")
      x:linktype("eth")
      assert.are.equal("02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype 0x88b5, length 16", tostring(x))
    end)

    it("agree with tcpdump -nn reading the same packets", function()
      local list = {
        packet.new(udp4(A, B, 5000, 9999, "hello world!")),
        packet.new(icmp4(A, B, 8, 7, 1, ("x"):rep(56))),
        packet.new(icmp4(B, A, 0, 7, 1, ("x"):rep(56))),
        packet.new(tcp4(A, B, 4000, 4711, 0x18, "", "data")),
        packet.new(tcp4(A, B, 4000, 4711, 0x11, "", "")),
        packet.new(udp6(1000, 2000, "six")),
        packet.new(icmp6(128, 1, 2, "ping")),
      }
      local path = os.tmpname()
      local w = assert(vnet.pcap.open(path, "w", { linktype = "raw" }))
      for _, p in ipairs(list) do assert(w:write(p)) end
      w:close()
      local out = H.sh("tcpdump -nn -S -t -r " .. path .. " 2>/dev/null")
      os.remove(path)
      local i = 0
      for line in out:gmatch("[^\n]+") do
        i = i + 1
        assert.are.equal(line, tostring(list[i]))
      end
      assert.are.equal(#list, i)
    end)

    it("dump shows every field", function()
      local p = packet.new(udp4(A, B, 5000, 53, "hi"))
      local d = p:dump()
      assert.matches("^IP 10%.0%.0%.1%.5000 > 10%.0%.0%.2%.53: UDP, length 2\n", d)
      assert.matches("\nipv4   version=4 ihl=5 tos=0x00 dscp=0 ecn=0 len=30 id=4660 flags=2 " ..
        "df=true mf=false frag=0 ttl=64 proto=17 csum=0x%x+ src=10%.0%.0%.1 dst=10%.0%.0%.2 family=4 " ..
        "offset=0 hlen=20\n", d)
      assert.matches("\nudp    sport=5000 dport=53 len=10 csum=0x%x+ payload=2 bytes offset=20 hlen=8\n", d)
      assert.matches("\nchecksums ok$", d)
    end)
  end)

  it("allocates nothing reading and setting fields on a reused packet (100,000 times)", function()
    local p = packet.new(eth(0x0800, tcp4(A, B, 1, 2, 0x18, "\2\4\5\180", "payload")))
    p:linktype("eth")
    local e0 = p:eth(); local i0 = p:ip(); local t0 = p:tcp() -- warm the view cache
    assert(e0 and i0 and t0)
    collectgarbage(); collectgarbage()
    collectgarbage("stop")
    local before = collectgarbage("count")
    local sum = 0
    for n = 1, 100000 do
      local ip = p:ipv4()
      local src, dst = ip.src, ip.dst
      ip.src, ip.dst = dst, src
      ip.ttl = n & 0xff
      ip.id = n & 0xffff
      local t = p:tcp()
      t.sport, t.dport = t.dport, t.sport
      t.seq = n
      t.mss = 1400
      t.ACK = n % 2 == 0
      local e = p:eth()
      e.src, e.dst = e.dst, e.src
      sum = sum + t.win + ip.len + e.type + (p:udp() and 1 or 0)
    end
    local grown = collectgarbage("count") - before
    collectgarbage("restart")
    assert.is_true(p:checksums_ok())
    assert.is_true(sum > 0)
    assert.is_true(grown < 16, string.format("memory grew by %.1f KiB", grown))
  end)

  describe("issue 9", function()
    local function six(s) -- fd00::<s>
      return "\xfd" .. ("\0"):rep(14) .. string.char(s)
    end
    local SRC, HOP, FINAL = six(1), six(2), six(0x99)
    -- IPv6 + a routing header + UDP, the UDP checksum over a pseudo-header
    -- with `pdst`, all written here in Lua
    local function rt_udp(rh, pdst, data)
      local u = string.pack(">I2I2I2I2", 1000, 2000, 8 + #data, 0) .. data
      local ph = SRC .. pdst .. string.pack(">I4I4", #u, 17)
      local c = csum(ph .. u)
      u = u:sub(1, 6) .. string.pack(">I2", c == 0 and 0xffff or c) .. u:sub(9)
      rh = string.char(17) .. rh
      return string.pack(">I4I2BB", 0x60000000, #rh + #u, 43, 64) .. SRC .. HOP .. rh .. u
    end
    -- routing headers after their next-header byte: length, type, segments left, ...
    local SRH = "\4\4\1\1\0\0\0" .. FINAL .. HOP -- segment routing (RFC 8754): List[0] is final
    local T2 = "\2\2\1\0\0\0\0" .. FINAL          -- type 2 (mobile IPv6): one address
    local T0 = "\4\0\1\0\0\0\0" .. HOP .. FINAL   -- type 0: in order, the last is final
    local SRH0 = "\4\4\0\0\0\0\0" .. FINAL .. HOP -- segments left 0: the fixed dst is final

    it("IPv6 with a routing header whose segments left > 0: the pseudo-header uses the final "
      .. "destination (RFC 8200 8.1)", function()
      local list = {
        packet.new(rt_udp(SRH, FINAL, "srh")), packet.new(rt_udp(T2, FINAL, "t2")),
        packet.new(rt_udp(T0, FINAL, "t0")), packet.new(rt_udp(SRH0, HOP, "sl0")),
      }
      local path = os.tmpname()
      local w = assert(vnet.pcap.open(path, "w", { linktype = "raw" }))
      for _, p in ipairs(list) do p:linktype("raw"); assert(w:write(p)) end
      w:close()
      local rows = H.tshark(path, { "udp.checksum.status", "ipv6.routing.type" })
      os.remove(path)
      for i, p in ipairs(list) do
        assert.are.equal("1", rows[i]["udp.checksum.status"], "tshark: packet " .. i)
        assert.is_true(p:checksums_ok(), "packet " .. i)
        local q = p:copy()
        assert.is_true(q:fix_checksums())
        assert.are.equal(p, q, "fix_checksums of packet " .. i)
      end
      -- the fixed header's dst is not in the pseudo-header: setting it leaves
      -- the UDP checksum; setting src updates it
      local p = list[1]
      local ip = assert(p:ipv6())
      local before = p:udp().csum
      ip.dst = "fd00::3"
      assert.are.equal(before, p:udp().csum)
      ip.src = "fd00::7"
      assert.is_true(p:checksums_ok())
      local q = p:copy()
      q:fix_checksums()
      assert.are.equal(q, p)
      -- swapping puts the fixed dst into the pseudo-header: adjusted
      assert.is_true(p:swap())
      assert.is_true(p:checksums_ok())
      assert.is_true(p:swap())
      assert.are.equal(q, p)
    end)

    it("one layout per header kind: the views write where vnet.proto.layout says", function()
      local layout = require("vnet.proto").layout
      local build = packet.build
      local samples = {
        eth = build { eth = { vlan = 5 }, ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, udp = {} },
        arp = build { arp = { spa = "10.0.0.1", tpa = "10.0.0.2" } },
        ipv4 = build { ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, udp = {} },
        ipv6 = build { ipv6 = { src = "fd00::1", dst = "fd00::2" }, udp = {} },
        icmp = build { ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, icmp = {} },
        icmp6 = build { ipv6 = { src = "fe80::1", dst = "ff02::1" },
          icmp6 = { type = "neighbor-solicitation", target = "fe80::2" } },
        udp = build { ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, udp = {} },
        tcp = build { ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, tcp = {} },
      }
      local checked = 0
      for kind, lay in pairs(layout) do
        assert.are.same(vnet.proto.fields[kind], (function()
          local names = {}
          for i, f in ipairs(lay.fields) do names[i] = f.name end
          return names
        end)(), kind)
        for _, f in ipairs(lay.fields) do
          if f.max and not f.ro then
            local p = samples[kind]:copy()
            local v = assert(p[kind](p))
            local base = v.offset
            for _, x in ipairs { f.max, 0, f.max // 2 + 1 } do
              if f.bool then x = x ~= 0 end
              v[f.name] = x
              local raw = f.width == 1 and p:u8(base + f.off) or f.width == 2
                and p:u16(base + f.off) or p:u32(base + f.off)
              local want = f.bool and (x and 1 or 0) or x
              assert.are.equal(want, (raw & f.mask) >> f.shift, kind .. "." .. f.name)
              checked = checked + 1
            end
          end
        end
      end
      assert.is_true(checked > 150, checked)
      assert.are.same({ 0x8100, 0x88a8, 0x9100 }, vnet.proto.vlan_tpids)
      assert.are.same({ name = "ah", unit = 4, bias = 2, fixed = 0 }, vnet.proto.ip6ext[51])
    end)

    it("the ARP view checks htype and ptype, not only the address sizes", function()
      local body = string.pack(">I2I2BBI2", 37, 0, 6, 4, 1) .. ("\2"):rep(6) .. A .. ("\0"):rep(6) .. B
      local p = packet.new(("\255"):rep(6) .. ("\2"):rep(6) .. "\8\6" .. body)
      p:linktype("eth")
      local why = "arp: hardware type 37, protocol type 0x0000 (only Ethernet/IPv4, 1 and " ..
        "0x0800, is supported)"
      assert.are.same({ nil, why }, { p:arp() })
      assert.are.same({ nil, why }, { p:arp_reply("02:00:00:00:00:09") })
      assert.are.equal(1, p:u16(20), "arp_reply left the packet alone")
      p:set_u16(14, 1); p:set_u16(16, 0x0800)
      assert.are.equal(1, p:arp().htype)
      assert.is_true(p:arp_reply("02:00:00:00:00:09"))
    end)

    it("needs_csum leaves an ICMPv6 checksum full: setting ipv6.src keeps it right (found by " ..
      "make fuzz-long)", function()
      local p = packet.build { ipv6 = { src = "fe80::1", dst = "2001:db8::2" },
        icmp6 = { id = 0, seq = 1 }, payload = "abc" }
      p.needs_csum = true
      assert.is_true(p:checksums_ok())
      p:ipv6().src = "fe80::7"
      assert.is_true(p:checksums_ok())
      local q = p:copy()
      q.needs_csum = true
      q:fix_checksums()
      assert.are.equal(q, p)
    end)

    it("a UDP/IPv4 partial checksum (needs_csum) of zero is wrong, not 'no checksum'", function()
      local p = packet.new(udp4(A, B, 1000, 2000, "abc"))
      p:linktype("raw")
      p.needs_csum = true
      assert.is_true(p:fix_checksums())
      local u = assert(p:udp())
      local want = u.csum
      assert.is_true(p:checksums_ok())
      u.csum = 0
      assert.are.same({ false, string.format("udp partial checksum 0x0000 is wrong (should be " ..
        "0x%04X)", want) }, { p:checksums_ok() })
      assert.is_true(p:fix_checksums())
      p:ipv4().src = "10.9.8.7"
      assert.is_true(p:checksums_ok())
      local q = p:copy()
      q.needs_csum = true
      q:fix_checksums()
      assert.are.equal(q, p)
    end)
  end)
end)
