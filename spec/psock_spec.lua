-- psock_spec.lua: packet sockets on every kind of link (issue 13), with
-- tcpdump capturing the same link at the same time as the witness.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local psock, link, loop = vnet.psock, vnet.link, vnet.loop
local HERE = "spec/psock_spec.lua"

-- Two namespaces joined by a veth: va (10.1.0.1) here, vb (10.1.0.2) in
-- the returned peer namespace. bare: va gets no address.
local function pair(bare)
  return H.veth_netns { addr_here = not bare and "10.1.0.1/24", addr_there = "10.1.0.2/24" }
end
local tcpdump = H.tcpdump

-- Up to n packets from s within t seconds, as strings.
local function drain(s, n, t)
  local got = {}
  local w = s:on_packet(function(p)
    got[#got + 1] = p:sub()
    if #got >= n then loop.stop() end
  end)
  loop.run { timeout = t or 3 }
  w:stop()
  return got
end

local FILTER = "icmp or udp port 9999"
-- from ns: 3 pings of addr and one UDP datagram to its port 9999 (which
-- answers with an ICMP port unreachable): 8 packets through the link
local function traffic(ns, addr)
  local ok, out = H.ping(ns, addr, 3)
  assert(ok, out)
  assert(ns:exec { "sh", "-c", "(echo hello | nc -u -w1 " .. addr .. " 9999 >/dev/null 2>&1 &)" } == 0)
end

-- Capture iface with vnet and tcpdump during traffic(ns, addr); both saw
-- the same 8 frames, in the same order.
local function same_as_tcpdump(iface, ns, addr, linktype)
  local s <close> = assert(psock.open(iface, { filter = FILTER }))
  assert.are.equal(linktype or 1, s.linktype)
  local td = tcpdump(iface, FILTER)
  traffic(ns, addr)
  local ours = drain(s, 8, 2)
  local theirs = td.frames()
  -- at least one echo and its reply (a loaded machine may lose some; the
  -- point is that both saw the same)
  assert.is_true(#theirs >= 2, "tcpdump saw " .. #theirs .. " packets")
  assert.are.same(theirs, ours)
  assert.are.same({ #ours, 0 }, { s.rx_packets, s.drops })
  return ours
end

describe("vnet.psock", function()
  H.keeps_host_state(setup, teardown)

  it("adds no globals", function()
    H.adds_no_globals("vnet.psock", "vnet.psock.core", "vnet.bpf.core", "vnet.pcapfile.core",
      "vnet.pcapng.core")
    assert.matches("^libpcap version 1%.", psock.libpcap_version)
  end)

  describe("captures what tcpdump captures", function()
    it("on a veth end", sandboxed(function()
      local peer <close> = pair()
      same_as_tcpdump("va", peer, "10.1.0.1")
    end))

    it("on a bridge and on its port at once", sandboxed(function()
      local peer <close> = pair(true)
      assert(vnet.bridge.create { name = "br0", up = true, ports = { "va" } })
      assert(vnet.addr.add("br0", "10.1.0.1/24"))
      local port <close> = assert(psock.open("va", { filter = FILTER }))
      local frames = same_as_tcpdump("br0", peer, "10.1.0.1")
      assert.are.same(frames, drain(port, #frames, 1))
    end))

    it("on a macvlan", sandboxed(function()
      local peer <close> = pair(true)
      assert(vnet.macvlan.create { name = "mv0", link = "va", mode = "bridge", up = true })
      assert(vnet.addr.add("mv0", "10.1.0.1/24"))
      same_as_tcpdump("mv0", peer, "10.1.0.1")
    end))

    it("on a vxlan", sandboxed(function()
      H.need_kind("vxlan")
      local peer <close> = pair()
      assert(vnet.vxlan.create { name = "vx0", id = 42, ["local"] = "10.1.0.1",
        remote = "10.1.0.2", dstport = 4789, up = true })
      assert(vnet.addr.add("vx0", "10.3.0.1/24"))
      peer:run(function()
        assert(vnet.vxlan.create { name = "vx0", id = 42, ["local"] = "10.1.0.2",
          remote = "10.1.0.1", dstport = 4789, up = true })
        assert(vnet.addr.add("vx0", "10.3.0.2/24"))
      end)
      same_as_tcpdump("vx0", peer, "10.3.0.1")
    end))

    it("on a vlan", sandboxed(function()
      H.need_kind("vlan")
      local peer <close> = pair()
      assert(vnet.vlan.create { name = "va.10", link = "va", id = 10, up = true })
      assert(vnet.addr.add("va.10", "10.4.0.1/24"))
      peer:run(function()
        assert(vnet.vlan.create { name = "vb.10", link = "vb", id = 10, up = true })
        assert(vnet.addr.add("vb.10", "10.4.0.2/24"))
      end)
      same_as_tcpdump("va.10", peer, "10.4.0.1")
    end))

    it("on an ipvlan", sandboxed(function()
      H.need_kind("ipvlan")
      local peer <close> = pair(true)
      assert(vnet.ipvlan.create { name = "iv0", link = "va", mode = "l2", up = true })
      assert(vnet.addr.add("iv0", "10.1.0.1/24"))
      same_as_tcpdump("iv0", peer, "10.1.0.1")
    end))

    it("on a TUN (raw IP, linktype 101) and a TAP", sandboxed(function()
      for _, kind in ipairs { "tun", "tap" } do
        local dev <close> = assert(vnet[kind].open { name = kind .. "0" })
        assert(dev:addr_add("10.9.0.1/24"))
        assert(dev:up())
        if kind == "tap" then
          assert(select(2, H.sh("ip neigh add 10.9.0.2 lladdr 02:00:00:00:00:02 dev tap0")) == 0)
        end
        local s <close> = assert(psock.open(dev, { filter = "icmp" }))
        assert.are.equal(kind == "tun" and 101 or 1, s.linktype)
        local td = tcpdump(kind .. "0", "icmp")
        -- nobody answers: the pings go into the device, as the peer's ARP
        -- does on a TAP (not icmp: filtered out)
        H.ping(nil, "10.9.0.2", 3)
        local ours = drain(s, 3)
        local theirs = td.frames()
        assert.are.equal(3, #theirs, kind)
        assert.are.same(theirs, ours)
        local _, _, _, wirelen, pkttype = s:info()
        assert.are.same({ "out", kind == "tun" and 84 or 98 }, { pkttype, wirelen })
      end
    end))
  end)

  describe("injects", function()
    it("an ARP request and an ICMP echo on a veth end: the kernel on the other end answers", sandboxed(function()
      local peer <close> = pair(true)
      local mac = assert(link.get("va")).address
      local vbmac = peer:run(function() return assert(link.get("vb")).address end)
      local s <close> = assert(psock.open("va", { filter = "arp or icmp" }))
      local arponly <close> = assert(psock.open("va", { protocol = "arp" }))
      assert.are.equal(0x0806, arponly.protocol)
      local arp = vnet.packet.build { eth = { src = mac }, arp = { op = "request",
        sha = mac, spa = "10.1.0.1", tpa = "10.1.0.2" } }
      assert.are.equal(#arp, s:write(arp))
      local got = drain(s, 1)
      assert.are.equal(1, #got)
      local reply = vnet.packet.new(got[1])
      assert.are.same({ 2, vbmac, "10.1.0.2" }, { reply:arp().op, reply:arp().sha, reply:arp().spa })
      -- the peer kernel's ICMP counters (IPv6 chatter would blur link counters)
      local function in_echos() return H.snmp(peer, "Icmp").InEchos end
      local rx0 = in_echos()
      for i = 1, 3 do
        local echo = vnet.packet.build { eth = { src = mac, dst = vbmac },
          ipv4 = { src = "10.1.0.1", dst = "10.1.0.2" }, icmp = { id = 77, seq = i },
          payload = "vnet" }
        assert(s:write(echo))
      end
      got = drain(s, 3)
      assert.are.equal(3, #got)
      for i, b in ipairs(got) do
        local ic = vnet.packet.new(b):icmp()
        assert.are.same({ 0, 77, i }, { ic.type, ic.id, ic.seq })
      end
      assert.are.equal(rx0 + 3, in_echos())
      assert.are.equal(4, s.tx_packets, "tx")
      local arps, others = 0, 0 -- the ARP socket saw the reply, and no ICMP
      for p in function() return arponly:read() end do
        if p:arp() then arps = arps + 1 else others = others + 1 end
      end
      assert.is_true(arps >= 1)
      assert.are.equal(0, others)
    end))
  end)

  describe("filters in the kernel", function()
    it("wake Lua only for what matches; set_filter and direction change it", sandboxed(function()
      local peer <close> = pair()
      local none <close> = assert(psock.open("va", { filter = "udp port 1" }))
      local out <close> = assert(psock.open("va", { direction = "out", filter = "icmp" }))
      local inb <close> = assert(psock.open("va", { direction = "in", filter = "icmp" }))
      traffic(peer, "10.1.0.1")
      assert.are.same({}, drain(none, 1, 0.3))
      assert.are.same({ 0, 0 }, { none.rx_packets, none.kernel_packets })
      local o = drain(out, 4) -- 3 echo replies and the port unreachable
      local i = drain(inb, 3) -- 3 echo requests
      assert.are.same({ 4, 3 }, { #o, #i })
      for _, b in ipairs(i) do assert.are.equal(8, vnet.packet.new(b):icmp().type) end
      assert.are.same({ "out", "in" }, { out.direction, inb.direction })
      assert(none:set_filter("udp port 9999"))
      assert.are.equal("udp port 9999", none.filter)
      traffic(peer, "10.1.0.1")
      assert.are.equal(1, #drain(none, 2, 0.3))
      assert.are.same({ nil, "filter va 'udp port': can't parse filter expression: syntax error", 22 },
        { none:set_filter("udp port") })
      assert.are.equal("udp port 9999", none.filter)
    end))

    it("on a TAP: the kernel drops what does not match (TUNATTACHFILTER)", sandboxed(function()
      local dev <close> = assert(vnet.tap.open { name = "tapf", filter = "udp port 9999" })
      assert.are.equal("udp port 9999", dev.filter)
      local f = assert(io.open("/proc/sys/net/ipv6/conf/tapf/disable_ipv6", "w"))
      f:write("1\n")
      f:close()
      assert(dev:addr_add("10.9.0.1/24"))
      assert(dev:up())
      assert(select(2, H.sh("ip neigh add 10.9.0.2 lladdr 02:00:00:00:00:02 dev tapf")) == 0)
      H.ping(nil, "10.9.0.2", 2)
      H.sh("(echo hi | nc -u -w1 10.9.0.2 9999 >/dev/null 2>&1 &); " ..
        "(echo x | nc -u -w1 10.9.0.2 9998 >/dev/null 2>&1 &)")
      local got = {}
      local w = dev:on_packet(function(p)
        -- the other datagram left with this one: half a second more for it
        if #got == 0 then loop.after(0.5, loop.stop) end
        got[#got + 1] = p:udp() and p:udp().dport or -1
      end)
      loop.run { timeout = 20 } -- (nc may be slow to start on a slow machine)
      w:stop()
      assert.are.same({ 9999 }, got)
      assert.is_true(H.ip("-s link show dev tapf")[1].stats64.tx.dropped >= 3)
      assert(dev:set_filter(nil))
      assert.is_nil(dev.filter)
      assert.are.same({ nil, "tap.open filter tapg 'tcp port': can't parse filter expression: syntax error", 22 },
        { vnet.tap.open { name = "tapg", filter = "tcp port" } })
      assert.is_nil(H.iplink("tapg"))
      local line = debug.getinfo(1, "l").currentline + 1
      local ok, e = pcall(vnet.tun.open, { name = "tunf", filter = "udp" })
      assert.is_false(ok)
      assert.matches("tun.open: option 'filter' is for TAP devices only", e, 1, true)
      assert.is_number(line)
    end))

    it("compiles as tcpdump -d prints", function()
      local prog = assert(psock.compile("udp", "raw"))
      assert.are.equal("(000) ldb      [0]", prog[1])
      local eth = assert(psock.compile("arp"))
      assert.are.same({ "(000) ldh      [12]", "(001) jeq      #0x806           jt 2\tjf 3",
        "(002) ret      #262144", "(003) ret      #0" }, eth)
    end)
  end)

  describe("scripts/capture.lua", function()
    it("prints or writes what it captures in another namespace, and the counts", sandboxed(function()
      local peer <close> = pair()
      local named = assert(vnet.netns.create("vnet-cap-13"))
      local ok, err = pcall(function()
        assert(link.set("va", { netns = named }))
        named:run(function()
          assert(link.set("va", { up = true }))
          assert(vnet.addr.add("va", "10.1.0.1/24"))
      end)
      local file = os.tmpname() .. ".pcapng"
      local cmd = H.vnet .. " scripts/capture.lua va --netns vnet-cap-13 -c %d %s icmp and host 10.1.0.1"
      local text = H.spawn(string.format(cmd, 4, ""))
      local pcapng = H.spawn(string.format(cmd, 2, "-w " .. file))
      os.execute("sleep 0.5")
      assert(H.ping(peer, "10.1.0.1", 2))
      local out, code = text.wait()
      assert.are.equal(0, code, out)
      local lines = {}
      for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
      assert.are.equal("capture.lua: listening on va, link-type EN10MB (Ethernet), filter " ..
        "'icmp and host 10.1.0.1'", lines[1])
      for i, want in ipairs { "host  IP 10.1.0.2 > 10.1.0.1: ICMP echo request",
        "out   IP 10.1.0.1 > 10.1.0.2: ICMP echo reply" } do
        assert.matches("^%d%d:%d%d:%d%d%.%d+ " .. want:gsub("%.", "%%."), lines[i + 1])
      end
      assert.are.same({ "4 packets captured", "0 packets dropped by kernel" }, { lines[6], lines[7] })
      out, code = pcapng.wait()
      assert.are.equal(0, code, out)
      local rows = H.tshark(file, { "icmp.type", "ip.src" })
      assert.are.same({ { ["icmp.type"] = "8", ["ip.src"] = "10.1.0.2" },
        { ["icmp.type"] = "0", ["ip.src"] = "10.1.0.1" } }, rows)
      os.remove(file)
      out, code = H.sh(H.vnet .. " scripts/capture.lua nosuch0 -c 1")
      assert.are.same({ "capture.lua: psock.open nosuch0: No such device\n", 1 }, { out, code })
      end)
      assert(named:delete())
      assert(ok, err)
    end))
  end)

  describe("bad input", function()
    it("a link or namespace that does not exist, a bad filter", sandboxed(function()
      assert.are.same({ nil, "psock.open nosuch0: No such device", 19 }, { psock.open("nosuch0") })
      assert.are.same({ nil, "psock.open #99999: No such device", 19 }, { psock.open(99999) })
      local ok, err, eno = psock.open("lo", { netns = "vnet-gone-13" })
      assert.are.same({ nil, "netns.open vnet-gone-13: No such file or directory (no such namespace: " ..
        "see `ip netns list` or vnet.netns.list())", 2 }, { ok, err, eno })
      local gone = assert(vnet.netns.create())
      gone:close()
      local e = select(2, pcall(psock.open, "lo", { netns = gone }))
      assert.matches("attempt to use a closed netns", e, 1, true)
      assert.are.same({ nil, "psock.open lo: bad filter 'port 99999': illegal port number 99999 > 65535", 22 }, { psock.open("lo", { filter = "port 99999" }) })
    end))

    it("a link that goes away ends on_packet with the kernel's reason", sandboxed(function()
      assert(vnet.veth.create { name = "va", peer = "vb" })
      assert(link.set("va", { up = true }))
      local s <close> = assert(psock.open("va"))
      s:on_packet(function() end)
      loop.after(0.1, function() assert(link.delete("vb")) end)
      assert.are.same({ nil, "read va: Network is down" }, { loop.run { timeout = 3 } })
      assert.is_nil(s:read())
    end))

    it("a closed socket, a frame over the MTU", sandboxed(function()
      local s = assert(psock.open("lo"))
      assert.are.same({ nil, "write lo: Message too long", 90 }, { s:write(string.rep("x", 70000)) })
      assert.are.equal("vnet.psock: lo (fd " .. s:fileno() .. ")", tostring(s))
      s:close()
      s:close() -- twice is fine
      assert.are.equal("vnet.psock: lo (closed)", tostring(s))
      assert.has_error(function() s:read() end, "attempt to use a closed psock")
      assert.has_error(function() s:write("x") end, "attempt to use a closed psock")
    end))

    it("misuse raises at the caller's line", function()
      local function at(fn, msg)
        local line = debug.getinfo(fn, "S").linedefined
        local ok, e = pcall(fn)
        assert.is_false(ok)
        assert.are.equal(HERE .. ":" .. line .. ": " .. msg, e)
      end
      at(function() psock.open("lo", { promis = true }) end,
        "psock.open: unknown option 'promis' (known: block_size, blocks, direction, filter, " ..
        "netns, promisc, protocol, timeout)")
      at(function() psock.open("lo", { direction = "sideways" }) end,
        "psock.open: direction 'sideways' (known: both, in, out)")
      at(function() psock.open("lo", { protocol = "ipx" }) end,
        "psock.open: protocol 'ipx' (known: all, ipv4, ipv6, arp, or an ethertype)")
      at(function() psock.open("lo", { protocol = 0 }) end, "psock.open: protocol 0 out of range 1..65535")
      at(function() psock.open("lo", { block_size = 5000 }) end,
        "psock.open: block_size 5000 is not a power of 2 from 4096 to 64 MiB")
      at(function() psock.open("lo", { timeout = 0 }) end,
        "psock.open: timeout must be 0.001 to 60 seconds")
      at(function() psock.open(0) end, "psock.open: ifindex 0 out of range 1..2^31-1")
      at(function() psock.open({}) end,
        "psock.open: expected a link name, ifindex or link object (got table)")
      at(function() psock.open("this-name-is-too-long") end,
        "psock.open: name 'this-name-is-too-long' is 21 bytes; interface names are 1 to 15 bytes")
    end)
  end)
end)
