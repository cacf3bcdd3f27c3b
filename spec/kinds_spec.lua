-- Every link kind of the seed's list that vnet wraps: create it with
-- options, check with `ip -d -j link show` that kind, parent and options
-- are what was asked, read them back from the object, delete it and check
-- it is gone. A kind the running kernel lacks is reported pending, with
-- the reason; the full-kernel lane (make test-kernel) runs them for real.
local H = require "spec.helper"
local sandboxed = H.sandboxed

-- kind, the options to create with (link = "p0": a veth made first), and
-- the checks: d is iproute2's linkinfo.info_data, l the link object.
local cases = {
  { kind = "dummy", opts = {}, check = function(d, l) end },
  { kind = "ifb", opts = {}, check = function(d, l) end },
  { kind = "vlan", opts = { link = "p0", id = 10, protocol = "802.1ad", reorder_hdr = true },
    check = function(d, l)
      assert.are.same({ 10, "802.1ad" }, { d.id, d.protocol })
      assert.are.same({ "REORDER_HDR" }, d.flags)
      assert.are.same({ 10, "802.1ad", true }, { l.id, l.protocol, l.reorder_hdr })
    end },
  { kind = "vlan", name = "vlan with the default protocol", opts = { link = "p0", id = 4094 },
    check = function(d, l)
      assert.are.same({ 4094, "802.1Q" }, { d.id, d.protocol })
      assert.are.same({ 4094, "802.1Q" }, { l.id, l.protocol })
    end },
  { kind = "vxlan", opts = { id = 42, remote = "10.9.9.2", ["local"] = "10.9.9.1",
      dstport = 4789, ttl = 64, learning = false, srcport = { 4000, 5000 } },
    check = function(d, l)
      assert.are.same({ 42, "10.9.9.2", "10.9.9.1", 4789, 64, false },
        { d.id, d.remote, d["local"], d.port, d.ttl, d.learning })
      assert.are.same({ 42, "10.9.9.2", "10.9.9.1", 4789, 64, false },
        { l.id, l.remote, l["local"], l.dstport, l.ttl, l.learning })
      assert.are.same({ 4000, 5000 }, l.srcport)
      assert.is_nil(l.info.group)
    end },
  { kind = "vxlan", name = "vxlan on a multicast group", opts = { id = 7, group = "239.1.1.1", dev = "p0" },
    check = function(d, l)
      assert.are.same({ 7, "239.1.1.1", "p0" }, { d.id, d.group, d.link })
      assert.are.same({ "239.1.1.1", nil }, { l.info.group, l.remote })
    end },
  { kind = "bond", opts = { mode = "active-backup", miimon = 100, min_links = 1 },
    check = function(d, l)
      assert.are.same({ "active-backup", 100, 1 }, { d.mode, d.miimon, d.min_links })
      assert.are.same({ "active-backup", 100, 1 }, { l.mode, l.miimon, l.min_links })
    end },
  { kind = "gre", opts = { ["local"] = "10.9.9.1", remote = "10.9.9.2", ttl = 64, key = 7 },
    check = function(d, l)
      assert.are.same({ "10.9.9.1", "10.9.9.2", 64, "0.0.0.7", "0.0.0.7" },
        { d["local"], d.remote, d.ttl, d.ikey, d.okey })
      assert.are.same({ "10.9.9.1", "10.9.9.2", 64, 7, 7 },
        { l["local"], l.remote, l.ttl, l.ikey, l.okey })
    end },
  { kind = "gretap", opts = { ["local"] = "10.9.9.1", remote = "10.9.9.2", ttl = 32 },
    check = function(d, l)
      assert.are.same({ "10.9.9.1", "10.9.9.2", 32 }, { d["local"], d.remote, d.ttl })
      assert.are.same({ "10.9.9.2", "ether" }, { l.remote, l.link_type })
    end },
  { kind = "ipip", opts = { ["local"] = "10.9.9.1", remote = "10.9.9.2", ttl = 64 },
    check = function(d, l)
      assert.are.same({ "ipip", "10.9.9.1", "10.9.9.2", 64 }, { d.proto, d["local"], d.remote, d.ttl })
      assert.are.same({ "10.9.9.1", "10.9.9.2", 64 }, { l["local"], l.remote, l.ttl })
    end },
  { kind = "sit", opts = { ["local"] = "10.9.9.1", remote = "10.9.9.2", ttl = 64, mode = "ip6ip" },
    check = function(d, l)
      assert.are.same({ "ip6ip", "10.9.9.1", "10.9.9.2", 64 }, { d.proto, d["local"], d.remote, d.ttl })
      assert.are.same({ "ip6ip", "10.9.9.2" }, { l.mode, l.remote })
    end },
  { kind = "ip6tnl", opts = { ["local"] = "2001:db8::1", remote = "2001:db8::2", hoplimit = 32,
      mode = "ip6ip6", encaplimit = 5 },
    check = function(d, l)
      assert.are.same({ "ip6ip6", "2001:db8::1", "2001:db8::2", 32, 5 },
        { d.proto, d["local"], d.remote, d.ttl, d.encap_limit })
      assert.are.same({ "ip6ip6", "2001:db8::2", 32, 5 }, { l.mode, l.remote, l.hoplimit, l.encaplimit })
    end },
  { kind = "vti", opts = { ["local"] = "10.9.9.1", remote = "10.9.9.2", key = 5 },
    check = function(d, l)
      assert.are.same({ "10.9.9.1", "10.9.9.2" }, { d["local"], d.remote })
      assert.are.same({ "10.9.9.1", "10.9.9.2", 5, 5 }, { l["local"], l.remote, l.ikey, l.okey })
    end },
  { kind = "geneve", opts = { id = 77, remote = "10.9.9.2", ttl = 16 },
    check = function(d, l)
      assert.are.same({ 77, "10.9.9.2", 16 }, { d.id, d.remote, d.ttl })
      assert.are.same({ 77, "10.9.9.2", 16 }, { l.id, l.remote, l.ttl })
    end },
  { kind = "vrf", opts = { table = 10 },
    check = function(d, l)
      assert.are.equal(10, d.table)
      assert.are.equal(10, l.table)
    end },
}

describe("link kinds", function()
  local before
  setup(function() before = H.host_state() end)
  teardown(function()
    assert.are.equal(before, H.host_state(), "the machine's own namespace changed")
  end)

  for _, c in ipairs(cases) do
    it((c.name or c.kind) .. ": create, check with iproute2, read back, delete", sandboxed(function()
      H.need_kind(c.kind)
      local parent
      if c.opts.link or c.opts.dev then parent = assert(vnet.veth.create("p0", "p1")) end
      local o = { name = "k0" }
      for k, v in pairs(c.opts) do o[k] = v end
      local l = assert(vnet[c.kind].create(o))
      assert.are.equal(c.kind, l.kind)
      local ip = assert(H.iplink("k0"))
      assert.are.equal(c.kind, ip.linkinfo.info_kind)
      if c.opts.link then
        assert.are.equal("p0", ip.link)
        assert.are.equal(parent.ifindex, l.parent)
      end
      c.check(ip.linkinfo.info_data or {}, l)
      assert.is_true(l:delete())
      assert.is_nil(H.iplink("k0"))
    end))
  end

  it("a kind vnet does not describe goes through the generic path (name + kind)", sandboxed(function()
    H.need_kind("nlmon")
    assert.is_nil(require("vnet._kinds").get("nlmon"))
    local l = assert(vnet.link.create { kind = "nlmon", name = "nlm0", up = true, mtu = 9000 })
    local ip = H.iplink("nlm0")
    assert.are.same({ "nlmon", 9000, true }, { ip.linkinfo.info_kind, ip.mtu, H.has_flag(ip, "UP") })
    assert.are.same({ "nlmon", "netlink" }, { l.kind, l.link_type })
    assert.has_error(function() vnet.link.create { kind = "nlmon", name = "nlm1", mode = "x" } end,
      "link.create: unknown option 'mode' (known: address, kind, link, master, mtu, name, netns, " ..
      "numrxqueues, numtxqueues, persist, txqueuelen, up)")
    assert.is_true(l:delete())
    assert.is_nil(H.iplink("nlm0"))
  end))

  it("says when the kernel lacks a kind, naming it", sandboxed(function()
    assert.are.same({ nil, "link.create zz1: this kernel has no 'nosuchkind' support " ..
      "(Unknown device type)", 95 }, { vnet.link.create { kind = "nosuchkind", name = "zz1" } })
    -- and for a real kind, when this kernel is one without it
    for _, k in ipairs { "ipvlan", "dummy", "vrf", "bond", "vlan", "nlmon" } do
      if not H.kernel_has(k) then
        assert.are.same({ nil, "link.create zz0: this kernel has no '" .. k ..
          "' support (Unknown device type)", 95 }, { vnet.link.create { kind = k, name = "zz0", link = "lo" } })
        break
      end
    end
    assert.are.equal(1, #H.ip("link show"))
  end))

  describe("bad input", function()
    it("rejects missing and bad options of each kind, naming them", sandboxed(function()
      assert.has_error(function() vnet.vlan.create { name = "v0", link = "lo" } end,
        "vlan.create v0: option 'id' is required (0 to 4094)")
      assert.has_error(function() vnet.vlan.create { name = "v0", link = "lo", id = 4095 } end,
        "vlan.create v0: option 'id' must be 0 to 4094 (got 4095)")
      assert.has_error(function() vnet.vlan.create { name = "v0", link = "lo", id = 1, protocol = "802.1x" } end,
        "vlan.create v0: option 'protocol' must be one of 802.1Q, 802.1ad (got '802.1x')")
      assert.has_error(function() vnet.vxlan.create { name = "x0" } end,
        "vxlan.create x0: option 'id' is required (the VNI, 0 to 16777215)")
      assert.has_error(function() vnet.vxlan.create { name = "x0", id = 1, remote = "10.0.0.300" } end,
        "vxlan.create x0: option 'remote' '10.0.0.300' is not an IPv4 or IPv6 address")
      assert.has_error(function() vnet.vxlan.create { name = "x0", id = 1, group = "10.0.0.3" } end,
        "vxlan.create x0: option 'group' must be a multicast address (got '10.0.0.3'; use remote for one endpoint)")
      assert.has_error(function() vnet.vxlan.create { name = "x0", id = 1, srcport = { 5, 1 } } end,
        "vxlan.create x0: option 'srcport' must be {low, high}, 1 to 65535")
      assert.has_error(function() vnet.gre.create { name = "g0", remote = "2001:db8::1" } end,
        "gre.create g0: option 'remote' '2001:db8::1' is not an IPv4 address")
      assert.has_error(function() vnet.ip6tnl.create { name = "g0", remote = "10.0.0.1" } end,
        "ip6tnl.create g0: option 'remote' '10.0.0.1' is not an IPv6 address")
      assert.has_error(function() vnet.vrf.create { name = "vrf0" } end,
        "vrf.create vrf0: option 'table' is required")
      assert.has_error(function() vnet.bond.create { name = "b0", mode = "fastest" } end,
        "bond.create b0: option 'mode' must be one of 802.3ad, active-backup, balance-alb, " ..
        "balance-rr, balance-tlb, balance-xor, broadcast (got 'fastest')")
      assert.has_error(function() vnet.link.create { kind = "tun", name = "t0" } end,
        "link.create: tun devices are made with vnet.tun.open (the kernel does not create them over rtnetlink)")
      assert.has_error(function() vnet.link.create { name = "t0" } end,
        "link.create: option 'kind' is required (a string)")
      assert.has_error(function() vnet.link.create { kind = "vxlan", name = "t0", vni = 5 } end,
        "link.create: unknown option 'vni' (known: address, ageing, dev, dstport, external, group, " ..
        "id, kind, l2miss, l3miss, learning, limit, link, local, master, mtu, name, netns, " ..
        "numrxqueues, numtxqueues, persist, proxy, remote, srcport, tos, ttl, txqueuelen, udp_csum, up)")
      assert.has_error(function() vnet.vxlan.create { kind = "bridge", name = "t0", id = 1 } end,
        "vxlan.create: option 'kind' is 'bridge', not 'vxlan'")
      assert.are.equal(1, #H.ip("link show")) -- only lo: nothing half-made
    end))
  end)
end)
