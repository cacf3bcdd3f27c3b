-- vnet.macvlan and vnet.macvtap: the seed's modes, shown with traffic
-- between namespaces, and a macvtap's frames read from /dev/tapN.
--
-- The rig: a veth whose near end "up0" is the macvlans' parent and whose
-- far end "sw0" sits in namespace P, playing the switch. Each macvlan is
-- made straight into a namespace of its own, so a ping between them has
-- to cross the parent as a frame.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local veth, macvlan, macvtap, bridge, netns = vnet.veth, vnet.macvlan, vnet.macvtap,
  vnet.bridge, vnet.netns

local function rig(mode, hairpin)
  local r = { P = assert(netns.create()), n1 = assert(netns.create()), n2 = assert(netns.create()) }
  r.up0, r.sw0 = assert(veth.create("up0", "sw0", { peer_netns = r.P, up = true, peer_up = true }))
  if hairpin then
    r.br = assert(r.P:run(bridge.create, { name = "br0", up = true, ports = { "sw0" } }))
    assert(bridge.port(r.sw0, { hairpin = true }))
    assert.is_true(H.iplink_in(r.P, "sw0").linkinfo.info_slave_data.hairpin)
  end
  r.m1 = assert(macvlan.create { name = "mv1", link = r.up0, mode = mode, netns = r.n1, up = true })
  r.m2 = assert(macvlan.create { name = "mv2", link = "up0", mode = mode, netns = r.n2, up = true })
  assert(r.m1:addr_add("10.2.0.1/24"))
  assert(r.m2:addr_add("10.2.0.2/24"))
  return setmetatable(r, { __close = function()
    r.n1:close(); r.n2:close(); r.P:close()
  end })
end

describe("vnet.macvlan", function()
  H.keeps_host_state(setup, teardown)

  it("creates one on a parent, as `ip link add link eth0 name macv1 type macvlan`", sandboxed(function()
    local a = assert(veth.create("eth0", "eth1"))
    local m = assert(macvlan.create { name = "macv1", link = "eth0", mode = "bridge" })
    local l = assert(H.iplink("macv1"))
    assert.are.equal("macvlan", l.linkinfo.info_kind)
    assert.are.equal("bridge", l.linkinfo.info_data.mode)
    assert.are.equal("eth0", l.link)
    assert.are.same({ "macvlan", "bridge", a.ifindex }, { m.kind, m.mode, m.parent })
    assert.are_not.equal(a.address, m.address) -- a MAC address of its own
    assert.is_true(m:delete())
    assert.is_nil(H.iplink("macv1"))
  end))

  it("reads the mode back and changes it afterwards", sandboxed(function()
    assert(veth.create("p0", "p1"))
    local m = assert(macvlan.create { name = "m0", link = "p0", mode = "bridge" })
    for _, mode in ipairs { "vepa", "private", "bridge" } do
      assert.is_true(m:set { mode = mode })
      assert.are.equal(mode, m.mode)
      assert.are.equal(mode, H.iplink("m0").linkinfo.info_data.mode)
    end
    assert.are.equal("vepa", assert(macvlan.create { name = "m1", link = "p0" }).mode) -- the default
  end))

  it("in bridge mode: two macvlans on one parent reach each other", sandboxed(function()
    local r <close> = rig("bridge")
    local ok, out = H.ping(r.n1, "10.2.0.2", 2)
    assert.is_true(ok, out)
  end))

  it("in private mode: they do not", sandboxed(function()
    local r <close> = rig("private")
    assert.are.equal("private", H.ip_in(r.n1, "link show mv1")[1].linkinfo.info_data.mode)
    assert.is_false((H.ping(r.n1, "10.2.0.2")))
  end))

  it("in vepa mode: they do not without a hairpin switch", sandboxed(function()
    local r <close> = rig("vepa")
    assert.is_false((H.ping(r.n1, "10.2.0.2")))
    -- the frames went out to the "switch" and were not sent back
    assert.is_true(assert(r.sw0:stats()).rx_packets > 0)
  end))

  it("in vepa mode: they do through a bridge with hairpin on", sandboxed(function()
    local r <close> = rig("vepa", true)
    local ok, out = H.ping(r.n1, "10.2.0.2", 2)
    assert.is_true(ok, out)
  end))

  it("in private mode: not even through a hairpin switch", sandboxed(function()
    local r <close> = rig("private", true)
    assert.is_false((H.ping(r.n1, "10.2.0.2")))
  end))

  it("in passthru mode takes the parent alone", sandboxed(function()
    assert(veth.create("p0", "p1"))
    local m = assert(macvlan.create { name = "pt0", link = "p0", mode = "passthru", nopromisc = true })
    assert.are.same({ "passthru", true }, { m.mode, m.nopromisc })
    assert.is_true(H.iplink("pt0").linkinfo.info_data.nopromisc)
    assert.are.same({ nil, "macvlan.create pt1: Invalid argument (the parent cannot carry one " ..
      "(loopback, or a passthru macvlan is on it or would be next to others))", 22 },
      { macvlan.create { name = "pt1", link = "p0", mode = "bridge" } })
    assert.is_nil(H.iplink("pt1"))
  end))

  it("in source mode keeps a list of source addresses", sandboxed(function()
    assert(veth.create("p0", "p1"))
    local m = assert(macvlan.create { name = "src0", link = "p0", mode = "source",
      source_addresses = { "02:00:00:00:00:01", "02:00:00:00:00:02" } })
    local function sorted(t) t = { table.unpack(t) }; table.sort(t); return t end
    assert.are.same({ "02:00:00:00:00:01", "02:00:00:00:00:02" }, sorted(m.source_addresses))
    assert.are.same({ "02:00:00:00:00:01", "02:00:00:00:00:02" },
      sorted(H.iplink("src0").linkinfo.info_data.macaddr_data))
    assert.is_true(m:set { source_addresses = { "02:00:00:00:00:03" } })
    assert.are.same({ "02:00:00:00:00:03" }, m.source_addresses)
    assert.are.same({ "02:00:00:00:00:03" }, H.iplink("src0").linkinfo.info_data.macaddr_data)
  end))

  describe("bad input", function()
    it("raises on misuse, naming the option", sandboxed(function()
      assert.has_error(function() macvlan.create { name = "m0", mode = "bridge" } end,
        "macvlan.create m0: option 'link' is required (the parent device)")
      assert.has_error(function() macvlan.create { name = "m0", link = "lo", mode = "bridg" } end,
        "macvlan.create m0: option 'mode' must be one of bridge, passthru, private, source, vepa (got 'bridg')")
      assert.has_error(function() macvlan.create { name = "m0", link = "lo", modes = "bridge" } end,
        "macvlan.create: unknown option 'modes' (known: address, bc_queue_len, kind, link, master, " ..
        "mode, mtu, name, netns, nodst, nopromisc, numrxqueues, numtxqueues, persist, source_addresses, " ..
        "txqueuelen, up)")
      assert.has_error(function() macvlan.create { name = "m0", link = "lo", source_addresses = {} } end,
        "macvlan.create m0: option 'source_addresses' needs mode 'source' (got no mode)")
      assert.has_error(function()
        macvlan.create { name = "m0", link = "lo", mode = "source", source_addresses = { "x" } }
      end, "macvlan.create m0: option 'source_addresses' entry 1: 'x' is not a MAC address")
      assert.has_error(function() macvlan.create { name = "m0", link = "lo", mode = 4 } end,
        "macvlan.create: option 'mode' must be string (got integer)")
      local m = assert(macvlan.create { name = "m1", link = assert(veth.create("p0", "p1")) })
      assert.has_error(function() m:set { link = "p1" } end,
        "link.set: unknown option 'link' (known: address, bc_queue_len, master, mode, mtu, name, " ..
        "netns, nodst, nomaster, nopromisc, source_addresses, txqueuelen, up)")
    end))

    it("returns what the kernel says, with what it means, leaving nothing", sandboxed(function()
      assert.are.same({ nil, "macvlan.create m0: No such device (parent 'nosuch0')", 19 },
        { macvlan.create { name = "m0", link = "nosuch0" } })
      assert(veth.create("p0", "p1"))
      assert(bridge.create { name = "br0", ports = { "p0" } })
      assert.are.same({ nil, "macvlan.create m0: Device or resource busy (the parent is already " ..
        "taken: a bridge or bond port, or it has an ipvlan)", 16 },
        { macvlan.create { name = "m0", link = "p0" } })
      assert.are.same({ nil, "macvlan.create m0: Invalid argument (the parent cannot carry one " ..
        "(loopback, or a passthru macvlan is on it or would be next to others))", 22 },
        { macvlan.create { name = "m0", link = "lo" } })
      assert.is_nil(H.iplink("m0"))
    end))
  end)
end)

describe("vnet.macvtap", function()
  it("creates one, read back as `ip -d link` shows it", sandboxed(function()
    assert(veth.create("p0", "p1"))
    local m = assert(macvtap.create { name = "mvt0", link = "p0", mode = "vepa" })
    local l = H.iplink("mvt0")
    assert.are.same({ "macvtap", "vepa", "p0" }, { l.linkinfo.info_kind, l.linkinfo.info_data.mode, l.link })
    assert.are.same({ "macvtap", "vepa" }, { m.kind, m.mode })
    assert.is_true(m:set { mode = "bridge" })
    assert.are.equal("bridge", H.iplink("mvt0").linkinfo.info_data.mode)
  end))

  it("gives the frames sent to its address to /dev/tapN, and sends what is written", sandboxed(function()
    -- no IPv6 on this side's links: their router solicitations and MLD
    -- reports would reach sw0 too, and the spec counts what sw0 receives
    assert(io.open("/proc/sys/net/ipv6/conf/default/disable_ipv6", "w")):write("1"):close()
    local P <close> = assert(netns.create())
    local up0, sw0 = assert(veth.create("up0", "sw0", { peer_netns = P, up = true, peer_up = true }))
    local mt = assert(macvtap.create { name = "mvt0", link = up0, mode = "bridge", up = true })
    local dev <close> = assert(mt:open())
    assert.matches("^vnet.tap: mvt0 %(fd %d+%)$", tostring(dev))
    assert.are.equal(mt.ifindex, dev.ifindex)
    -- the switch side sends an IPv4 packet to the macvtap's MAC address
    assert(sw0:addr_add("10.3.0.1/24"))
    assert.are.same({ 0, "" }, { P:exec { "ip", "neigh", "replace", "10.3.0.2", "lladdr",
      mt.address, "dev", "sw0", "nud", "permanent" } })
    P:exec { "ping", "-c", "1", "-W", "0.3", "10.3.0.2" }
    local want = mt.address:gsub(":", "")
    local seen
    for _ = 1, 20 do
      local f = dev:read()
      if not f then break end
      local dst = f:sub(1, 6):gsub(".", function(c) return string.format("%02x", c:byte()) end)
      if dst == want and f:u16(12) == 0x0800 and f:u8(14 + 9) == 1 then
        seen = f:copy()
        break
      end
    end
    assert.is_not_nil(seen, "no ICMP frame for the macvtap's address came out of /dev/tap" .. mt.ifindex)
    assert.are.equal(0x0a030002, seen:u32(14 + 16)) -- to 10.3.0.2
    -- and a frame written to it goes out through the parent
    local before = assert(sw0:stats()).rx_packets
    local frame = ("\xff"):rep(6) .. ("\x02\x00\x00\x00\x00\x09") .. "\x88\xb5" .. ("v"):rep(50)
    assert.are.equal(#frame, dev:write(frame))
    assert.are.equal(before + 1, assert(sw0:stats()).rx_packets)
  end))

  it("opens only what is a macvtap", sandboxed(function()
    assert(veth.create("p0", "p1"))
    local m = assert(macvlan.create { name = "m0", link = "p0" })
    assert.is_nil(m.open) -- a macvlan has no character device
    local mt = assert(macvtap.create { name = "mvt0", link = "p0" })
    assert.has_error(function() mt:open { vnethdr = true } end,
      "macvtap.open: unknown option 'vnethdr' (known: vnet_hdr)")
    local d <close> = assert(mt:open { vnet_hdr = true })
    assert.is_true(d.vnet_hdr)
    assert(mt:delete())
    d:close()
    local ok, err, eno = require("vnet.macvtap.core").open(mt.ifindex, "mvt0", "macvtap.open")
    assert.is_nil(ok)
    assert.are.equal("macvtap.open mvt0: No such file or directory (not a macvtap or ipvtap link)", err)
    assert.are.equal(2, eno)
  end))
end)

describe("vnet.macvtap.open misuse (issue 9)", function()
  it("raises naming what it wants for anything but a link object", function()
    for _, bad in ipairs { 5, "mvt0", {}, true } do
      assert.has_error(function() macvtap.open(bad) end, "macvtap.open: expected a macvtap " ..
        "or ipvtap link object (from vnet.macvtap.create or vnet.link.get; got " .. type(bad) .. ")")
    end
  end)
end)
