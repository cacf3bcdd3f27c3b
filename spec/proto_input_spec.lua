-- vnet.proto: malformed input (no view crashes, none reads past the
-- end), checksums checked and fixed, the reply helpers. Packets made by
-- hand: spec/support/frames.lua.
local H = require "spec.helper"
local packet = vnet.packet
local F = require "spec.support.frames"
local csum, ip4, ipv4, udp4, tcp4, icmp4, ipv6, udp6, icmp6, eth, arp, A, B, S6, D6, MAC1, MAC2, PAD6 =
  F.csum, F.ip4, F.ipv4, F.udp4, F.tcp4, F.icmp4, F.ipv6, F.udp6, F.icmp6, F.eth, F.arp, F.A, F.B, F.S6, F.D6, F.MAC1, F.MAC2, F.PAD6

describe("vnet.proto", function()
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
end)
