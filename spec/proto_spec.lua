-- vnet.proto: header views and field setters that keep checksums right.
-- Packets here are made by hand (spec/support/frames.lua: string.pack and
-- a checksum written in Lua), not by packet.build, so the views are
-- checked against an independent encoder. More: proto_input_spec.lua
-- (malformed input, checksums, replies), proto_show_spec.lua (tostring,
-- dump, issue 9).
local H = require "spec.helper"
local packet = vnet.packet
local F = require "spec.support.frames"
local csum, ip4, ipv4, udp4, tcp4, icmp4, ipv6, udp6, icmp6, eth, arp, A, B, S6, D6, MAC1, MAC2, PAD6 =
  F.csum, F.ip4, F.ipv4, F.udp4, F.tcp4, F.icmp4, F.ipv6, F.udp6, F.icmp6, F.eth, F.arp, F.A, F.B, F.S6, F.D6, F.MAC1, F.MAC2, F.PAD6

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

    it("set each address's own bytes as texts alternate (the setter keeps the last texts it parsed)", function()
      local p = packet.new(udp4(A, B, 1, 2, "x"))
      local ip = p:ipv4()
      local function bytes(a) -- the witness: the text's bytes, by hand
        local t = {}
        for o in a:gmatch("%d+") do t[#t + 1] = string.char(tonumber(o)) end
        return table.concat(t)
      end
      for _, a in ipairs { "10.0.0.9", "10.0.0.9", "10.0.0.19", "10.0.0.9", "1.2.3.4", "10.0.0.9" } do
        ip.dst = a
        assert.equal(bytes(a), p:sub(17, 20))
        assert.equal(a, ip.dst)
        assert.is_true(p:checksums_ok())
      end
      -- a text that only starts like the last one is parsed, and refused
      assert.has_error(function() ip.dst = "10.0.0.9x" end,
        "ipv4.dst: '10.0.0.9x' is not an IPv4 address")
      assert.has_error(function() ip.dst = "10.0.0.9\0" end)
      assert.equal(bytes("10.0.0.9"), p:sub(17, 20))
      ip.src = "10.0.0.9" -- another field, the same text
      assert.equal(bytes("10.0.0.9"), p:sub(13, 16))
      -- more texts than the setter keeps, in turn, three times over, and a
      -- NAT's two directions (dst = REAL, src = VIRT) interleaved
      local many = {}
      for i = 1, 12 do many[i] = "10.9." .. i .. "." .. (i * 7) end
      for round = 1, 3 do
        for i, a in ipairs(many) do
          ip.dst = a
          ip.src = many[#many + 1 - i]
          assert.equal(bytes(a), p:sub(17, 20), a)
          assert.equal(bytes(many[#many + 1 - i]), p:sub(13, 16))
          assert.is_true(p:checksums_ok(), "round " .. round)
        end
      end
      local p6 = packet.new(udp6(1, 2, "x"))
      for _, a in ipairs { "2001:db8::1", "2001:db8::2", "2001:db8::1" } do
        p6:ipv6().dst = a
        assert.equal(a, p6:ipv6().dst)
        assert.equal("\32\1\13\184" .. ("\0"):rep(11) .. string.char(tonumber(a:sub(-1))), p6:sub(25, 40))
      end
      local f = packet.new(eth(0x0806, arp(1, MAC1, A, MAC2, B)))
      for _, m in ipairs { "02:00:00:00:00:09", "02:00:00:00:00:0a", "02:00:00:00:00:09" } do
        f:eth().dst = m
        assert.equal(m, f:eth().dst)
        assert.equal("\2\0\0\0\0" .. string.char(tonumber(m:sub(-2), 16)), f:sub(1, 6))
      end
    end)

    it("read an address's text again after its bytes changed, however they changed", function()
      -- the view keeps the text of the last address it read, by its bytes
      local p = packet.new(udp4(A, B, 1, 2, "x"))
      local ip = p:ipv4()
      assert.equal("10.0.0.2", ip.dst)
      assert.equal("10.0.0.2", ip.dst)
      p:set_u8(19, 7) -- under the view, not through it
      assert.equal("10.0.0.7", ip.dst)
      p:put(12, "\192\168\0\1")
      assert.equal("192.168.0.1", ip.src)
      assert.equal("10.0.0.7", ip.dst)
      assert.is_true(vnet.proto.nat { ["10.0.0.7"] = "10.9.9.9" }:dst(p))
      assert.equal("10.9.9.9", ip.dst)
      local a = packet.new(eth(0x0806, arp(1, MAC1, A, MAC2, B)))
      local v, e = a:arp(), a:eth()
      local before = { v.sha, v.spa, v.tha, v.tpa, e.src, e.dst }
      assert.same(before, { v.sha, v.spa, v.tha, v.tpa, e.src, e.dst })
      v.spa, v.tha, e.dst = "10.1.2.3", "02:00:00:00:00:09", "ff:ff:ff:ff:ff:ff"
      assert.same({ before[1], "10.1.2.3", "02:00:00:00:00:09", before[4], before[5], "ff:ff:ff:ff:ff:ff" },
        { v.sha, v.spa, v.tha, v.tpa, e.src, e.dst })
      local p6 = packet.new(udp6(1, 2, "x"))
      local i6 = p6:ipv6()
      local d = i6.dst
      p6:set_u8(39, p6:u8(39) ~ 1)
      assert.are_not.equal(d, i6.dst)
      assert.equal(i6.dst, p6:ipv6().dst)
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
        -- texts from a pool larger than the setter's cache of parsed texts
        function(p) p:ipv4().src = "192.0.2." .. math.random(1, 9) end,
        function(p) p:ipv4().dst = "198.51.100." .. math.random(1, 9) end,
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
      assert.has_error(function() ip.src = "10.0.0.1\0x" end, "ipv4.src: '10.0.0.1\\0x' is not an IPv4 address")
      assert.has_error(function() u.dport = -1 end, "udp.dport: value -1 out of range 0..65535")
      assert.has_error(function() u.payload = "x" end, "udp.payload is read-only")
      local e = packet.new(eth(0x0800, udp4(A, B, 1, 2, "x"))):eth()
      assert.has_error(function() e.src = "02:00:00:00:00" end,
        "eth.src: '02:00:00:00:00' is not a MAC address")
      local v6 = packet.new(udp6(1, 2, "x")):ipv6()
      assert.has_error(function() v6.src = "10.0.0.1" end, "ipv6.src: '10.0.0.1' is not an IPv6 address")
      -- inet_pton's rules, by hand (ip.dst = text is per packet in a rewriter)
      local src = ip.src
      for _, bad in ipairs { "10.0.0.01", "10.0.0.256", "10.0.0.1.", "10..0.1", " 10.0.0.1",
                             "10.0.0.1 ", "1000.0.0.1", "10.0.0.-1", "" } do
        assert.has_error(function() ip.src = bad end,
          "ipv4.src: '" .. bad .. "' is not an IPv4 address")
      end
      assert.equal(src, ip.src) -- a refused value leaves the field as it was
      -- in a fresh process every slot of the setters' cache of parsed texts
      -- is empty: the empty text is still refused, not taken from one
      local out = H.sh(H.vnet .. [[ -e 'local ip = vnet.packet.build { ipv4 = { src = "1.2.3.4",
        dst = "5.6.7.8" }, udp = { sport = 1, dport = 2 } }:ipv4()
        print(pcall(function() ip.src = "" end)); print(ip.src)' 2>&1]])
      assert.matches("^false\t[^\n]*ipv4%.src: '' is not an IPv4 address\n1%.2%.3%.4\n$", out)
      ip.src = "0.0.0.0"; assert.equal("0.0.0.0", ip.src)
      ip.src = "255.255.255.255"; assert.equal("255.255.255.255", ip.src)
    end)

    it("find each field by its name in any order (a view remembers the names it was asked for last)", function()
      local p = packet.new(udp4(A, B, 1, 2, "x"))
      local ip, u = p:ipv4(), p:udp()
      for _ = 1, 3 do
        assert.equal(64, ip.ttl)
        assert.equal("10.0.0.2", ip.dst)
        assert.equal(64, ip.ttl)
        assert.equal(2, u.dport)
        assert.equal(1, u.sport)
      end
      ip.ttl = 9; ip.id = 77; ip.ttl = 10
      assert.same({ 10, 77 }, { p:u8(8), p:u16(4) })
      assert.has_error(function() return ip[1] end, "ipv4 has no field '1'")
      assert.has_error(function() ip.tll = 1 end, "ipv4 has no field 'tll'")
      assert.equal(10, ip.ttl)
      local long = ("x"):rep(60) -- not interned by Lua: found by the table
      assert.has_error(function() return ip[long] end, "ipv4 has no field '" .. long .. "'")
      assert.is_true(p:checksums_ok())
    end)

    it("give every field its own value however many names a view is asked for, in any order", function()
      local p = packet.new(udp4(A, B, 1, 2, "x"))
      local ip = p:ipv4()
      local want = { version = 4, ihl = 5, tos = 0, dscp = 0, ecn = 0, len = 29, id = 0x1234, flags = 0,
                     df = false, mf = false, frag = 0, ttl = 64, proto = 17, src = "10.0.0.1", dst = "10.0.0.2",
                     options = "", family = 4, offset = 0, hlen = 20 }
      want.csum, want.flags = p:u16(10), p:u16(6) >> 13
      want.df = want.flags == 2
      local names = {}
      for k in pairs(want) do names[#names + 1] = k end
      table.sort(names)
      for round = 1, 4 do -- forwards, backwards, and each name twice running
        for i = 1, #names do
          local k = names[round % 2 == 1 and i or #names + 1 - i]
          assert.equal(want[k], ip[k], k)
          if round > 2 then assert.equal(want[k], ip[k], k) end
        end
      end
      for _, k in ipairs { "ttl", "id", "ttl", "tos", "id", "ttl" } do
        ip[k] = 7
        assert.equal(7, ip[k], k)
      end
      assert.same({ 7, 7, 7 }, { p:u8(8), p:u16(4), p:u8(1) })
      assert.is_true(p:checksums_ok())
    end)

    it("refuse what is not a view of their kind in their metamethods", function()
      local p = packet.new(udp4(A, B, 1, 2, "x"))
      local ip, u = p:ipv4(), p:udp()
      local uindex = debug.getmetatable(u).__index
      assert.equal(2, uindex(u, "dport"))
      assert.has_error(function() uindex(ip, "dport") end,
        "bad argument #1 to 'uindex' (udp view expected, got vnet.ipv4)")
      -- a name both kinds have, which the IPv4 view has already looked up
      assert.equal(0, ip.offset)
      assert.has_error(function() uindex(ip, "offset") end,
        "bad argument #1 to 'uindex' (udp view expected, got vnet.ipv4)")
      assert.has_error(function() debug.getmetatable(u).__newindex(ip, "offset", 1) end,
        "bad argument #1 to '__newindex' (udp view expected, got vnet.ipv4)")
      assert.has_error(function() uindex({}, "dport") end,
        "bad argument #1 to 'uindex' (header view expected, got table)")
      assert.has_error(function() uindex(p, "dport") end,
        "bad argument #1 to 'uindex' (header view expected, got vnet.packet)")
      assert.has_error(function() debug.getmetatable(ip).__newindex(u, "ttl", 1) end)
      local tag = packet.new(eth(0x0800, udp4(A, B, 1, 2, "x"))):eth().tag
      assert.has_error(function() tag(ip, 1) end, "bad argument #1 to 'tag' (eth view expected)")
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

  describe("nat", function()
    -- the reference: the same rewrite through the views, then every
    -- checksum recomputed from scratch
    local function by_view(s, field, to)
      local p = packet.new(s)
      p:ip()[field] = to
      p:fix_checksums()
      return p:sub()
    end

    it("rewrites destinations that are keys and sources that are values, checksums right", function()
      local nat = vnet.proto.nat { ["10.0.0.2"] = "192.168.7.2", ["10.0.0.9"] = "192.168.7.9" }
      for _, s in ipairs { udp4(A, B, 1, 2, "abc"), tcp4(A, B, 1, 2, 0x18, "", "payload"),
                           icmp4(A, B, 8, 1, 1, "ping") } do
        local p = packet.new(s)
        assert.is_true(nat:dst(p))
        assert.equal("192.168.7.2", p:ipv4().dst)
        assert.is_true(p:checksums_ok())
        assert.equal(by_view(s, "dst", "192.168.7.2"), p:sub())
        assert.is_false(nat:dst(p)) -- 192.168.7.2 is not a key
        assert.is_false(nat:src(p)) -- 10.0.0.1 is not a value
        -- the reply comes back from the real address and leaves from the virtual one
        local r = packet.new(s)
        r:ipv4().src = "192.168.7.9"
        assert.is_true(nat:src(r))
        assert.equal("10.0.0.9", r:ipv4().src)
        assert.is_true(r:checksums_ok())
      end
      local z = packet.new(udp4(A, B, 1, 2, "x"))
      z:set_u16(26, 0) -- no UDP checksum over IPv4: stays none
      assert.is_true(nat:dst(z))
      assert.equal(0, z:u16(26))
      assert.is_true(z:checksums_ok())
    end)

    it("maps IPv6 beside IPv4, the ICMPv6 checksum too", function()
      local src6 = packet.new(udp6(1, 2, "x")):ipv6().dst
      local nat = vnet.proto.nat { [src6] = "2001:db8::42", ["10.0.0.2"] = "10.1.1.1" }
      assert.equal(2, #nat)
      for _, s in ipairs { udp6(1, 2, "x"), icmp6(128, 1, 1, "ping") } do
        local p = packet.new(s)
        assert.is_true(nat:dst(p))
        assert.equal("2001:db8::42", p:ipv6().dst)
        assert.equal(by_view(s, "dst", "2001:db8::42"), p:sub())
        assert.is_true(p:checksums_ok())
      end
      assert.same({ [src6] = "2001:db8::42", ["10.0.0.2"] = "10.1.1.1" }, nat:pairs())
      assert.equal("vnet.proto.nat: 1 IPv4 and 1 IPv6 pairs", tostring(nat))
    end)

    it("finds its pair among 4096 (a whole /20 mapped)", function()
      local map = {}
      for i = 0, 4095 do
        map[string.format("10.8.%d.%d", i // 256, i % 256)] = string.format("172.16.%d.%d", i // 256, i % 256)
      end
      local nat = vnet.proto.nat(map)
      assert.equal(4096, #nat)
      for _, i in ipairs { 0, 1, 255, 256, 2047, 4094, 4095 } do
        local d = string.format("10.8.%d.%d", i // 256, i % 256)
        local p = packet.new(udp4(A, B, 1, 2, "x"))
        p:ipv4().dst = d
        assert.is_true(nat:dst(p))
        assert.equal(map[d], p:ipv4().dst)
        assert.is_true(p:swap()) -- the reply: from the real address
        assert.is_true(nat:src(p))
        assert.equal(d, p:ipv4().src)
        assert.is_true(p:checksums_ok())
      end
      local p = packet.new(udp4(A, B, 1, 2, "x"))
      p:ipv4().dst = "10.8.16.0" -- just past the map
      assert.is_false(nat:dst(p))
    end)

    it("changes only the outer header: not IP, or malformed, is nil and why", function()
      local nat = vnet.proto.nat { ["10.0.0.2"] = "10.0.0.3" }
      local arpf = packet.new(eth(0x0806, arp(1, MAC1, A, MAC2, B)))
      local ok, why = nat:dst(arpf)
      assert.is_nil(ok)
      assert.equal("ip: not IP (ethertype 0x0806)", why)
      local short = packet.new(udp4(A, B, 1, 2, "x"):sub(1, 19))
      assert.same({ nil, "ipv4: truncated header (19 of 20 bytes)" }, { nat:dst(short) })
      -- a later fragment: only the IP header and its checksum change
      local frag = packet.new(udp4(A, B, 1, 2, "abcdefgh"))
      frag:ipv4().frag = 1
      assert.is_true(nat:dst(frag))
      assert.equal("10.0.0.3", frag:ipv4().dst)
      assert.is_true(frag:checksums_ok())
    end)

    it("rejects a map that is not one-to-one text pairs, at the caller's line", function()
      local line = debug.getinfo(1, "l").currentline
      local function err(map) -- each call below is on line + n
        local ok, e = pcall(vnet.proto.nat, map)
        assert.is_false(ok)
        return e
      end
      local where = "spec/proto_spec.lua:" .. (line + 2) .. ": " -- the pcall in err
      assert.equal(where .. "vnet.proto.nat: the map must be a table of address pairs (got string)", err("10.0.0.1"))
      assert.equal(where .. "vnet.proto.nat: the map's keys and values must be IP address text (got number)",
        err { "10.0.0.1" })
      assert.equal(where .. "vnet.proto.nat: '10.0.0' is not an IP address", err { ["10.0.0"] = "10.0.0.1" })
      assert.equal(where .. "vnet.proto.nat: '10.0.0.1\\0x' is not an IP address", err { ["10.0.0.1\0x"] = "10.0.0.1" })
      assert.equal(where .. "vnet.proto.nat: 10.0.0.1 -> fd00::1 maps between IPv4 and IPv6",
        err { ["10.0.0.1"] = "fd00::1" })
      assert.equal(where .. "vnet.proto.nat: 10.0.0.3 is the value of two keys (a reply from it could not be mapped back)",
        err { ["10.0.0.1"] = "10.0.0.3", ["10.0.0.2"] = "10.0.0.3" })
      local nat = vnet.proto.nat {}
      assert.equal(0, #nat)
      assert.has_error(function() nat:dst("x") end, "bad argument #1 to 'dst' (vnet.packet expected, got string)")
      assert.has_error(function() nat.dst({}, packet.new(1)) end, "bad argument #1 to 'dst' (vnet.proto.nat expected, got table)")
      assert.has_error(function() nat:dst(packet.new(udp4(A, B, 1, 2, "x")), -1) end)
    end)
  end)
end)
