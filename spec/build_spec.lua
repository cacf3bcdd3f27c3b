-- vnet.packet.build and the reply helpers. Witnesses: tshark (with IP, UDP
-- and TCP checksum validation on; ICMP and ICMPv6 are always validated)
-- decoding the packets from a pcap file, and the kernel itself, which
-- answers an echo request, a UDP datagram or a TCP SYN to a closed port,
-- or an ARP request only when every checksum and length in it is right.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local packet, pcap, loop = vnet.packet, vnet.pcap, vnet.loop
local build = packet.build

--- Decode packets with tshark: one table of field -> value per packet.
local function tshark(list, linktype, fields)
  local path = os.tmpname()
  local w = assert(pcap.open(path, "w", { linktype = linktype }))
  for _, p in ipairs(list) do assert(w:write(p)) end
  w:close()
  local ok, rows = pcall(H.tshark, path, fields)
  os.remove(path)
  assert(ok, rows)
  assert.are.equal(#list, #rows)
  return rows
end

local GOOD = "1" -- tshark's checksum status "Good"

describe("vnet.packet.build", function()
  it("adds no globals", function() H.adds_no_globals("vnet.build") end)

  it("builds IPv4 and IPv6 with UDP, TCP, ICMP and ICMPv6 that tshark decodes with good checksums",
    function()
      local list = {
        build { ipv4 = { src = "10.0.0.1", dst = "10.0.0.2", ttl = 9, id = 77, df = true },
          udp = { sport = 5000, dport = 9999 }, payload = "hello world!" },
        build { ipv4 = { src = "10.0.0.1", dst = "10.0.0.2", options = "\1\1\1" },
          tcp = { sport = 4000, dport = 4711, seq = 7, ack = 9, flags = "SA", mss = 1460,
            sack_ok = true, ts = { 11, 12 }, wscale = 7 } },
        build { ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" },
          icmp = { type = "echo-request", id = 7, seq = 1 }, payload = ("x"):rep(56) },
        build { ipv6 = { src = "fd00::1", dst = "fd00::2", hlim = 3, flow = 0x12345,
          ext = { { type = 0 }, { type = 60, data = "\1\2\0\0" } } },
          udp = { sport = 1, dport = 2 }, payload = "six" },
        build { ipv6 = { src = "fd00::1", dst = "fd00::2" },
          tcp = { sport = 4000, dport = 4711, flags = "PA", seq = 1 }, payload = "data" },
        build { ipv6 = { src = "fd00::1", dst = "fd00::2" },
          icmp6 = { type = "echo-request", id = 3, seq = 4 }, payload = "ping" },
        build { ipv6 = { src = "fe80::1", dst = "ff02::1:ff00:2" },
          icmp6 = { type = "neighbor-solicitation", target = "fe80::2" } },
      }
      local rows = tshark(list, "raw", { "ip.src", "ip.dst", "ip.ttl", "ip.id", "ip.flags.df",
        "ip.checksum.status", "ip.opt.type", "ipv6.src", "ipv6.dst", "ipv6.hlim", "ipv6.flow",
        "ipv6.dstopts.nxt", "udp.srcport", "udp.dstport", "udp.length", "udp.checksum.status",
        "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.ack_raw", "tcp.flags",
        "tcp.options.mss_val", "tcp.options.wscale.shift", "tcp.options.timestamp.tsval",
        "tcp.checksum.status", "tcp.len", "icmp.type", "icmp.ident", "icmp.seq",
        "icmp.checksum.status", "icmpv6.type", "icmpv6.echo.identifier",
        "icmpv6.echo.sequence_number", "icmpv6.nd.ns.target_address", "icmpv6.checksum.status",
        "data.len", "_ws.malformed" })
      local want = {
        { ["ip.src"] = "10.0.0.1", ["ip.dst"] = "10.0.0.2", ["ip.ttl"] = "9", ["ip.id"] = "0x004d",
          ["ip.flags.df"] = "1", ["ip.checksum.status"] = GOOD, ["udp.srcport"] = "5000",
          ["udp.dstport"] = "9999", ["udp.length"] = "20", ["udp.checksum.status"] = GOOD,
          ["data.len"] = "12", ["ip.flags.df"] = "1" },
        { ["ip.src"] = "10.0.0.1", ["ip.dst"] = "10.0.0.2", ["ip.ttl"] = "64", ["ip.id"] = "0x0000",
          ["ip.flags.df"] = "0", ["ip.checksum.status"] = GOOD, ["ip.opt.type"] = "1",
          ["tcp.srcport"] = "4000", ["tcp.dstport"] = "4711", ["tcp.seq_raw"] = "7",
          ["tcp.ack_raw"] = "9", ["tcp.flags"] = "0x0012", ["tcp.options.mss_val"] = "1460",
          ["tcp.options.wscale.shift"] = "7", ["tcp.options.timestamp.tsval"] = "11",
          ["tcp.checksum.status"] = GOOD, ["tcp.len"] = "0" },
        { ["ip.src"] = "10.0.0.1", ["ip.dst"] = "10.0.0.2", ["ip.ttl"] = "64", ["ip.id"] = "0x0000",
          ["ip.flags.df"] = "0", ["ip.checksum.status"] = GOOD, ["icmp.type"] = "8",
          ["icmp.ident"] = "7", ["icmp.seq"] = "1", ["icmp.checksum.status"] = GOOD,
          ["data.len"] = "56" },
        { ["ipv6.src"] = "fd00::1", ["ipv6.dst"] = "fd00::2", ["ipv6.hlim"] = "3",
          ["ipv6.flow"] = "0x012345", ["ipv6.dstopts.nxt"] = "17", ["udp.srcport"] = "1",
          ["udp.dstport"] = "2", ["udp.length"] = "11", ["udp.checksum.status"] = GOOD,
          ["data.len"] = "3" },
        { ["ipv6.src"] = "fd00::1", ["ipv6.dst"] = "fd00::2", ["ipv6.hlim"] = "64",
          ["ipv6.flow"] = "0x000000", ["tcp.srcport"] = "4000", ["tcp.dstport"] = "4711",
          ["tcp.seq_raw"] = "1", ["tcp.ack_raw"] = "0", ["tcp.flags"] = "0x0018",
          ["tcp.checksum.status"] = GOOD, ["tcp.len"] = "4", ["data.len"] = "4" },
        { ["ipv6.src"] = "fd00::1", ["ipv6.dst"] = "fd00::2", ["ipv6.hlim"] = "64",
          ["ipv6.flow"] = "0x000000", ["icmpv6.type"] = "128", ["icmpv6.echo.identifier"] = "0x0003",
          ["icmpv6.echo.sequence_number"] = "4", ["icmpv6.checksum.status"] = GOOD,
          ["data.len"] = "4" },
        { ["ipv6.src"] = "fe80::1", ["ipv6.dst"] = "ff02::1:ff00:2", ["ipv6.hlim"] = "64",
          ["ipv6.flow"] = "0x000000", ["icmpv6.type"] = "135",
          ["icmpv6.nd.ns.target_address"] = "fe80::2", ["icmpv6.checksum.status"] = GOOD },
      }
      for i = 1, #want do
        assert.are.same(want[i], rows[i], "packet " .. i .. ": " .. tostring(list[i]))
        assert.is_true(list[i]:checksums_ok())
      end
    end)

  it("builds Ethernet frames, VLAN tags and ARP that tshark decodes", function()
    local list = {
      build { arp = { op = "request", sha = "02:00:00:00:00:01", spa = "10.0.0.1", tpa = "10.0.0.2" } },
      build { arp = { op = "reply", sha = "02:00:00:00:00:02", spa = "10.0.0.2",
        tha = "02:00:00:00:00:01", tpa = "10.0.0.1" } },
      build { eth = { src = "02:00:00:00:00:01", dst = "02:00:00:00:00:02", vlan = 5, pcp = 3 },
        ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, udp = { sport = 1, dport = 2 }, payload = "x" },
      build { eth = { src = "02:00:00:00:00:01", dst = "02:00:00:00:00:02", vlan = { 100, 5 } },
        ipv6 = { src = "fd00::1", dst = "fd00::2" }, tcp = { sport = 1, dport = 2, flags = "S" } },
      build { eth = { src = "02:00:00:00:00:01", type = 0x88b5 }, payload = ("e"):rep(46) },
    }
    local rows = tshark(list, "ethernet", { "eth.src", "eth.dst", "eth.type", "vlan.id",
      "vlan.priority", "ieee8021ad.id", "arp.opcode", "arp.src.hw_mac", "arp.src.proto_ipv4",
      "arp.dst.hw_mac", "arp.dst.proto_ipv4", "ip.checksum.status", "udp.checksum.status",
      "tcp.checksum.status", "tcp.flags", "_ws.malformed" })
    local want = {
      { ["eth.src"] = "02:00:00:00:00:01", ["eth.dst"] = "ff:ff:ff:ff:ff:ff", ["eth.type"] = "0x0806",
        ["arp.opcode"] = "1", ["arp.src.hw_mac"] = "02:00:00:00:00:01",
        ["arp.src.proto_ipv4"] = "10.0.0.1", ["arp.dst.hw_mac"] = "00:00:00:00:00:00",
        ["arp.dst.proto_ipv4"] = "10.0.0.2" },
      { ["eth.src"] = "02:00:00:00:00:02", ["eth.dst"] = "02:00:00:00:00:01", ["eth.type"] = "0x0806",
        ["arp.opcode"] = "2", ["arp.src.hw_mac"] = "02:00:00:00:00:02",
        ["arp.src.proto_ipv4"] = "10.0.0.2", ["arp.dst.hw_mac"] = "02:00:00:00:00:01",
        ["arp.dst.proto_ipv4"] = "10.0.0.1" },
      { ["eth.src"] = "02:00:00:00:00:01", ["eth.dst"] = "02:00:00:00:00:02", ["eth.type"] = "0x8100",
        ["vlan.id"] = "5", ["vlan.priority"] = "3", ["ip.checksum.status"] = GOOD,
        ["udp.checksum.status"] = GOOD },
      { ["eth.src"] = "02:00:00:00:00:01", ["eth.dst"] = "02:00:00:00:00:02", ["eth.type"] = "0x88a8",
        ["ieee8021ad.id"] = "100", ["vlan.id"] = "5", ["vlan.priority"] = "0",
        ["tcp.checksum.status"] = GOOD, ["tcp.flags"] = "0x0002" },
      { ["eth.src"] = "02:00:00:00:00:01", ["eth.dst"] = "ff:ff:ff:ff:ff:ff", ["eth.type"] = "0x88b5" },
    }
    for i = 1, #want do
      assert.are.same(want[i], rows[i], "frame " .. i .. ": " .. tostring(list[i]))
    end
    assert.are.same({ "eth", false }, { list[1]:linktype() })
  end)

  it("accepts the list-of-layers shape too, and builds into a given packet", function()
    local keyed = build { eth = { src = "02:00:00:00:00:01" }, ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" },
      udp = { sport = 1, dport = 2 }, payload = "x" }
    local listed = build { { eth = { src = "02:00:00:00:00:01" } }, { ipv4 = { src = "10.0.0.1",
      dst = "10.0.0.2" } }, { udp = { sport = 1, dport = 2 } }, payload = "x" }
    assert.are.equal(keyed, listed)
    local p = packet.new(100)
    assert.are.equal(p, build({ ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, udp = {} }, p))
    assert.are.equal(28, #p)
    assert.are.same({ "raw", false }, { p:linktype() })
    local from = build { ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, udp = {}, payload = p }
    assert.are.equal(p:sub(), from:udp().payload)
  end)

  it("rejects misuse, naming what is wrong", function()
    local ip = { src = "10.0.0.1", dst = "10.0.0.2" }
    assert.has_error(function() build(5) end, "packet.build: spec must be a table (got number)")
    assert.has_error(function() build { ipv5 = {} } end,
      "packet.build: unknown layer 'ipv5' (known: eth, arp, ipv4, ipv6, udp, tcp, icmp, icmp6, payload)")
    assert.has_error(function() build { ipv4 = { src = "10.0.0.1", dst = "10.0.0.2", tll = 3 } } end,
      "packet.build: unknown ipv4 field 'tll' (known: src, dst, ttl, tos, id, df, mf, frag, proto, options)")
    assert.has_error(function() build { ipv4 = { dst = "10.0.0.2" } } end,
      "packet.build: ipv4.src is required")
    assert.has_error(function() build { ipv4 = { src = "10.0.0.300", dst = "10.0.0.2" } } end,
      "packet.build: ipv4.src: '10.0.0.300' is not an IPv4 address")
    assert.has_error(function() build { ipv4 = ip, ipv6 = ip } end,
      "packet.build: both ipv4 and ipv6 given; a packet has one")
    assert.has_error(function() build { ipv4 = ip, icmp6 = {} } end,
      "packet.build: icmp6 needs ipv6 (use icmp with ipv4)")
    assert.has_error(function() build { udp = {} } end, "packet.build: udp needs ipv4 or ipv6")
    assert.has_error(function() build { ipv4 = ip, udp = { dport = 70000 } } end,
      "packet.build: udp.dport: 70000 out of range 0..65535")
    assert.has_error(function() build { ipv4 = ip, tcp = { flags = "SX" } } end,
      "packet.build: tcp.flags: unknown flag 'X' (use F S R P A U E C)")
    assert.has_error(function() build { ipv4 = ip, icmp = { type = "ping" } } end,
      "packet.build: icmp.type: unknown name 'ping'")
    assert.has_error(function() build { eth = {} } end,
      "packet.build: eth.type is needed when no arp, ipv4 or ipv6 layer follows")
    assert.has_error(function() build {} end,
      "packet.build: nothing to build: give eth, arp, ipv4 or ipv6")
    assert.has_error(function() build { ipv4 = ip, payload = 5 } end,
      "packet.build: payload must be a string or packet")
    assert.has_error(function() build { eth = { src = "zz" }, ipv4 = ip } end,
      "packet.build: eth.src: 'zz' is not a MAC address")
  end)

  describe("reply helpers", function()
    it("give replies tshark finds well formed", function()
      local echo = build { ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, icmp = { id = 5, seq = 6 },
        payload = "abc" }
      assert.is_true(echo:echo_reply())
      local echo6 = build { ipv6 = { src = "fd00::1", dst = "fd00::2" }, icmp6 = { id = 5, seq = 6 } }
      assert.is_true(echo6:echo_reply())
      local syn = build { ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" },
        tcp = { sport = 4000, dport = 4711, flags = "S" } }
      assert.is_true(syn:swap())
      local rows = tshark({ echo, echo6, syn }, "raw", { "ip.src", "ipv6.src", "icmp.type",
        "icmp.checksum.status", "icmpv6.type", "icmpv6.checksum.status", "tcp.srcport",
        "tcp.checksum.status" })
      assert.are.same({ ["ip.src"] = "10.0.0.2", ["icmp.type"] = "0", ["icmp.checksum.status"] = GOOD },
        rows[1])
      assert.are.same({ ["ipv6.src"] = "fd00::2", ["icmpv6.type"] = "129",
        ["icmpv6.checksum.status"] = GOOD }, rows[2])
      assert.are.same({ ["ip.src"] = "10.0.0.2", ["tcp.srcport"] = "4711",
        ["tcp.checksum.status"] = GOOD }, rows[3])
    end)
  end)

  describe("the kernel as witness", function()
    -- the first packet read from dev for which pred(p) holds, or nil
    local function await(dev, pred, timeout)
      local got
      local w = dev:on_packet(function(p)
        if pred(p) then got = p:copy(); loop.stop() end
      end)
      loop.run { timeout = timeout or 2 }
      w:stop()
      return got
    end

    local function tun(name)
      local dev = assert(vnet.tun.open { name = name })
      assert(dev:addr_add("10.9.2.1", { peer = "10.9.2.2" }))
      assert(dev:up())
      local _, code = H.sh("ip -6 addr add fd00:9::1/64 dev " .. name .. " nodad")
      assert.are.equal(0, code)
      return dev
    end

    local FROM = { src = "10.9.2.2", dst = "10.9.2.1" }
    local FROM6 = { src = "fd00:9::2", dst = "fd00:9::1" }

    it("answers an ICMP echo request built here (and ignores one with a bad checksum)",
      sandboxed(function()
        local dev <close> = tun("tb0")
        local req = build { ipv4 = FROM, icmp = { id = 99, seq = 1 }, payload = "from vnet" }
        local bad = req:copy()
        bad:icmp().csum = bad:icmp().csum ~ 1
        assert(dev:write(bad))
        assert.is_nil(await(dev, function(p) return p:icmp() ~= nil end, 0.3))
        assert(dev:write(req))
        local rep = assert(await(dev, function(p) local m = p:icmp() return m and m.type == 0 end))
        local m = rep:icmp()
        assert.are.same({ 99, 1, "from vnet", "10.9.2.1", "10.9.2.2" },
          { m.id, m.seq, m.payload, rep:ip().src, rep:ip().dst })
        assert.is_true(rep:checksums_ok())
      end))

    it("answers UDP and a TCP SYN to closed ports only when their checksums are right",
      sandboxed(function()
        local dev <close> = tun("tb0")
        local function unreachable(p)
          local m = p:icmp()
          return m and m.type == 3 and m.code == 3
        end
        local udp = build { ipv4 = FROM, udp = { sport = 5000, dport = 9 }, payload = "knock" }
        local bad = udp:copy()
        bad:udp().csum = bad:udp().csum ~ 0x100
        assert(dev:write(bad))
        assert.is_nil(await(dev, unreachable, 0.3))
        assert(dev:write(udp))
        assert.truthy(await(dev, unreachable))
        local syn = build { ipv4 = FROM, tcp = { sport = 4000, dport = 9, seq = 100, flags = "S" } }
        local function rst(p) local t = p:tcp() return t and t.RST end
        local badsyn = syn:copy()
        badsyn:tcp().csum = badsyn:tcp().csum ~ 1
        assert(dev:write(badsyn))
        assert.is_nil(await(dev, rst, 0.3))
        assert(dev:write(syn))
        local r = assert(await(dev, rst))
        assert.are.same({ 9, 4000, 101 }, { r:tcp().sport, r:tcp().dport, r:tcp().ack })
      end))

    it("answers ICMPv6 echo (through extension headers) and UDP over IPv6", sandboxed(function()
      local dev <close> = tun("tb0")
      local req = build { ipv6 = { src = FROM6.src, dst = FROM6.dst,
        ext = { { type = 0 }, { type = 60 } } }, icmp6 = { id = 6, seq = 7 }, payload = "six" }
      assert(dev:write(req))
      local rep = assert(await(dev, function(p) local m = p:icmp6() return m and m.type == 129 end))
      assert.are.same({ 6, 7, "six", "fd00:9::1" }, { rep:icmp6().id, rep:icmp6().seq,
        rep:icmp6().payload, rep:ip().src })
      local udp = build { ipv6 = FROM6, udp = { sport = 5000, dport = 9 }, payload = "knock" }
      assert(dev:write(udp))
      assert.truthy(await(dev, function(p) local m = p:icmp6() return m and m.type == 1 end))
    end))

    it("answers a rewritten packet: addresses changed through views keep checksums valid",
      sandboxed(function()
        local dev <close> = tun("tb0")
        local req = build { ipv4 = { src = "10.200.0.7", dst = "10.200.0.8" }, icmp = { id = 1, seq = 2 } }
        local ip = req:ipv4()
        ip.src, ip.dst, ip.ttl = "10.9.2.2", "10.9.2.1", 33
        assert(dev:write(req))
        assert.truthy(await(dev, function(p) local m = p:icmp() return m and m.type == 0 end))
        local syn = build { ipv4 = { src = "1.2.3.4", dst = "5.6.7.8" },
          tcp = { sport = 4000, dport = 9, flags = "S", mss = 1460 } }
        local ip4 = syn:ipv4()
        ip4.src, ip4.dst = FROM.src, FROM.dst
        syn:tcp().mss = 1200
        assert(dev:write(syn))
        assert.truthy(await(dev, function(p) local t = p:tcp() return t and t.RST end))
      end))

    it("answers an ARP request and then an echo request framed for a TAP", sandboxed(function()
      local dev <close> = assert(vnet.tap.open { name = "tb1" })
      assert(dev:addr_add("10.9.3.1/24"))
      assert(dev:up())
      local mac = H.iplink("tb1").address
      local me = "02:00:00:00:00:02"
      assert(dev:write(build { arp = { sha = me, spa = "10.9.3.2", tpa = "10.9.3.1" } }))
      local r = assert(await(dev, function(p) local a = p:arp() return a and a.op == 2 end))
      local a = r:arp()
      assert.are.same({ mac, "10.9.3.1", me, "10.9.3.2" }, { a.sha, a.spa, a.tha, a.tpa })
      assert.are.same({ me, mac }, { r:eth().dst, r:eth().src })
      assert(dev:write(build { eth = { src = me, dst = mac }, ipv4 = { src = "10.9.3.2", dst = "10.9.3.1" },
        icmp = { id = 3, seq = 4 } }))
      local e = assert(await(dev, function(p) local m = p:icmp() return m and m.type == 0 end))
      assert.are.same({ 3, 4, me }, { e:icmp().id, e:icmp().seq, e:eth().dst })
    end))

    it("learns our MAC from an ARP reply built by p:arp_reply", sandboxed(function()
      local dev <close> = assert(vnet.tap.open { name = "tb1" })
      assert(dev:addr_add("10.9.3.1/24"))
      assert(dev:up())
      local me = "02:00:00:00:00:07"
      os.execute("ping -c 1 -W 1 10.9.3.7 >/dev/null 2>&1 &") -- makes the kernel ask
      local req = assert(await(dev, function(p) local a = p:arp() return a and a.op == 1 end, 3))
      assert.are.equal("10.9.3.7", req:arp().tpa)
      assert.is_true(req:arp_reply(me))
      assert(dev:write(req))
      local echo = assert(await(dev, function(p) local m = p:icmp() return m and m.type == 8 end, 3))
      assert.are.equal(me, echo:eth().dst)
    end))
  end)

  describe("issue 9", function()
    it("writes an AH's length in 4-byte units minus 2 (RFC 4302), as the parser reads it", function()
      local list = {}
      for _, n in ipairs { 6, 14, 18, 30 } do -- AH of 8, 16, 24, 32 bytes
        list[#list + 1] = build { ipv6 = { src = "fd00::1", dst = "fd00::2",
          ext = { { type = 51, data = ("\0"):rep(n) } } }, udp = { sport = 1, dport = 2 }, payload = "ah" }
      end
      local rows = tshark(list, "raw", { "ah.length", "ah.next_header", "udp.checksum.status",
        "_ws.malformed" })
      for i, p in ipairs(list) do
        local total = 8 * i
        assert.are.same({ ["ah.length"] = tostring(total // 4 - 2), ["ah.next_header"] = "17",
          ["udp.checksum.status"] = GOOD }, rows[i])
        assert.are.equal(40 + total, p:ipv6().hlen)
        assert.are.equal(2, p:udp().dport)
      end
      -- the fragment header has a fixed size, from the same table
      assert.has_error(function()
        build { ipv6 = { src = "fd00::1", dst = "fd00::2", ext = { { type = 44, data = "" } } } }
      end, "packet.build: ipv6.ext[1]: a fragment header has 6 bytes of data")
    end)

    it("writes an ICMPv6 target that lies in a non-first IPv6 fragment", function()
      -- a fragment at offset 8 that is not the last: no transport view there
      local p = build { ipv6 = { src = "fe80::1", dst = "ff02::1", ext = { { type = 44,
        data = "\0\9\0\0\0\7" } } }, icmp6 = { type = "neighbor-solicitation", target = "fe80::2" } }
      assert.are.same({ nil, "icmp6: not the first fragment" }, { p:icmp6() })
      assert.are.equal(require("vnet.proto.core").pton("ip6", "fe80::2"), p:sub(57, 72))
      assert.are.equal(135, p:u8(48))
      assert.has_error(function()
        build { ipv6 = { src = "fe80::1", dst = "ff02::1" }, icmp6 = { target = "fe80::x" } }
      end, "packet.build: icmp6.target: 'fe80::x' is not an IPv6 address")
    end)

    it("an ARP reply without eth goes to tha, and needs tha", function()
      local rep = build { arp = { op = "reply", sha = "02:00:00:00:00:01", spa = "10.0.0.1",
        tha = "02:00:00:00:00:02", tpa = "10.0.0.2" } }
      local req = build { arp = { sha = "02:00:00:00:00:01", spa = "10.0.0.1", tpa = "10.0.0.2" } }
      local rows = tshark({ rep, req }, "ethernet", { "eth.dst", "eth.src", "arp.opcode",
        "arp.dst.hw_mac" })
      assert.are.same({ ["eth.dst"] = "02:00:00:00:00:02", ["eth.src"] = "02:00:00:00:00:01",
        ["arp.opcode"] = "2", ["arp.dst.hw_mac"] = "02:00:00:00:00:02" }, rows[1])
      assert.are.same({ ["eth.dst"] = "ff:ff:ff:ff:ff:ff", ["eth.src"] = "02:00:00:00:00:01",
        ["arp.opcode"] = "1", ["arp.dst.hw_mac"] = "00:00:00:00:00:00" }, rows[2])
      assert.has_error(function()
        build { arp = { op = 2, sha = "02:00:00:00:00:01", spa = "10.0.0.1", tpa = "10.0.0.2" } }
      end, "packet.build: arp.tha is required for a reply without eth (the frame goes to tha)")
    end)

    it("reads field offsets, widths and ranges from the views' layout", function()
      local layout = require("vnet.proto.core").layout
      local p = build { ipv4 = { src = "10.0.0.1", dst = "10.0.0.2", ttl = 7, tos = 0xb8, id = 9 },
        tcp = { sport = 1, dport = 2, flags = "SA", win = 100 } }
      for k, v in pairs { ttl = 7, tos = 0xb8, id = 9 } do
        local f = layout.ipv4.fields[k]
        assert.are.equal(v, p:ipv4()[k])
        assert.are.equal(v, (f.width == 1 and p:u8(f.off) or p:u16(f.off)) & f.mask >> f.shift)
      end
      assert.are.equal(0x12, p:tcp().flags)
      assert.has_error(function()
        build { ipv6 = { src = "fd00::1", dst = "fd00::2", flow = layout.ipv6.fields.flow.max + 1 } }
      end, "packet.build: ipv6.flow: 1048576 out of range 0..1048575")
    end)
  end)
end)
