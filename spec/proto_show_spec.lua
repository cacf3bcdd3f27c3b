-- vnet.proto: the tostring summary and dump (tcpdump and tshark as the
-- witnesses where files are involved), no allocation in steady state, and
-- issue 9's regressions. Packets made by hand: spec/support/frames.lua.
local H = require "spec.helper"
local packet = vnet.packet
local F = require "spec.support.frames"
local csum, ip4, ipv4, udp4, tcp4, icmp4, ipv6, udp6, icmp6, eth, arp, A, B, S6, D6, MAC1, MAC2, PAD6 =
  F.csum, F.ip4, F.ipv4, F.udp4, F.tcp4, F.icmp4, F.ipv6, F.udp6, F.icmp6, F.eth, F.arp, F.A, F.B, F.S6, F.D6, F.MAC1, F.MAC2, F.PAD6

describe("vnet.proto", function()
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
