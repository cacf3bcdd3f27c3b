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
  -- the rest of the seed's `ip link` list (and netkit, newer than the seed)
  { kind = "ip6gre", opts = { ["local"] = "2001:db8::1", remote = "2001:db8::2", hoplimit = 32,
      key = 9, flowlabel = 0x12345, tclass = 0x20 },
    check = function(d, l)
      assert.are.same({ "2001:db8::1", "2001:db8::2" }, { d["local"], d.remote })
      assert.are.same({ "2001:db8::1", "2001:db8::2", 32, 9, 9, 0x12345, 0x20 },
        { l["local"], l.remote, l.hoplimit, l.ikey, l.okey, l.flowlabel, l.tclass })
    end },
  { kind = "ip6gretap", opts = { ["local"] = "2001:db8::1", remote = "2001:db8::2", encaplimit = 3 },
    check = function(d, l)
      assert.are.same({ "2001:db8::1", "2001:db8::2" }, { d["local"], d.remote })
      assert.are.same({ "2001:db8::2", 3, "ether" }, { l.remote, l.encaplimit, l.link_type })
    end },
  { kind = "erspan", opts = { ["local"] = "10.9.9.1", remote = "10.9.9.2", key = 10, erspan_ver = 1,
      erspan_index = 123 },
    check = function(d, l)
      assert.are.same({ "10.9.9.1", "10.9.9.2", 1, 123 }, { d["local"], d.remote, d.erspan_ver, d.erspan_index })
      assert.are.same({ "10.9.9.2", 10, 10, 1, 123 }, { l.remote, l.ikey, l.okey, l.erspan_ver, l.erspan_index })
    end },
  { kind = "ip6erspan", opts = { ["local"] = "2001:db8::1", remote = "2001:db8::2", key = 11,
      erspan_ver = 2, erspan_dir = "egress", erspan_hwid = 7 },
    check = function(d, l)
      assert.are.same({ "2001:db8::2", 2, "egress" }, { d.remote, d.erspan_ver, d.erspan_dir })
      assert.are.same({ "2001:db8::2", 11, 2, "egress", 7 },
        { l.remote, l.ikey, l.erspan_ver, l.erspan_dir, l.erspan_hwid })
    end },
  { kind = "hsr", opts = { slave1 = "p0", slave2 = "p1", supervision = 45, version = 1 },
    check = function(d, l, ip)
      assert.are.same({ "p0", "p1" }, { d.slave1, d.slave2 })
      -- (the kernel does not report the version back)
      assert.are.equal("01:15:4e:00:01:2d", l.supervision_address)
      assert.are.equal(vnet.link.index("p0"), l.slave1)
    end },
  { kind = "hsr", name = "hsr as PRP", opts = { slave1 = "p0", slave2 = "p1", proto = "prp" },
    check = function(d, l) assert.are.equal("prp", l.proto) end },
  { kind = "vcan", opts = {},
    check = function(d, l, ip) assert.are.same({ "can", "can" }, { ip.link_type, l.link_type }) end },
  { kind = "nlmon", opts = {},
    check = function(d, l, ip) assert.are.same({ "netlink", "netlink" }, { ip.link_type, l.link_type }) end },
  { kind = "macsec", opts = { link = "p0", port = 11, encrypt = true, cipher = "gcm-aes-256",
      validate = "check", replay = true, window = 32 },
    check = function(d, l)
      assert.are.same({ true, "GCM-AES-256", "check" }, { d.encrypt, d.cipher_suite, d.validation })
      assert.are.same({ true, "gcm-aes-256", "check", true, 32 },
        { l.encrypt, l.cipher, l.validate, l.replay, l.window })
    end },
}

describe("link kinds", function()
  H.keeps_host_state(setup, teardown)

  for _, c in ipairs(cases) do
    it((c.name or c.kind) .. ": create, check with iproute2, read back, delete", sandboxed(function()
      H.need_kind(c.kind)
      local parent
      if c.opts.link or c.opts.dev or c.opts.slave1 then parent = assert(vnet.veth.create("p0", "p1")) end
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
      c.check(ip.linkinfo.info_data or {}, l, ip)
      assert.is_true(l:delete())
      assert.is_nil(H.iplink("k0"))
    end))
  end

  -- kinds made as two ends: create returns both, as veth.create does
  for _, c in ipairs {
    { kind = "vxcan", opts = {}, check = function(a, b, ipa)
      assert.are.same({ "can", "can" }, { a.link_type, b.link_type })
    end },
    { kind = "netkit", opts = { mode = "l2", policy = "forward", peer_policy = "blackhole" },
      check = function(a, b, ipa)
        assert.are.same({ "l2", "forward", "blackhole", true }, { a.mode, a.policy, a.peer_policy, a.primary })
        assert.are.same({ "ether", false }, { a.link_type, b.primary })
      end },
  } do
    it(c.kind .. ": both ends, one in another namespace, checked with iproute2", sandboxed(function()
      H.need_kind(c.kind)
      local ns <close> = assert(vnet.netns.create())
      local o = { peer_netns = ns, peer_up = true }
      for k, v in pairs(c.opts) do o[k] = v end
      local a, b = assert(vnet[c.kind].create("e0", "e1", o))
      assert.are.same({ c.kind, "e0", "e1", ns }, { a.kind, a.name, b.name, b.netns })
      local ipa = assert(H.iplink("e0"))
      assert.are.equal(c.kind, ipa.linkinfo.info_kind)
      local ipb = ns:run(function() return H.iplink("e1") end)
      assert.are.same({ c.kind, true }, { ipb.linkinfo.info_kind, H.has_flag(ipb, "UP") })
      c.check(a, b, ipa)
      assert.is_true(a:delete())
      assert.is_nil(H.iplink("e0"))
      assert.is_nil(ns:run(function() return H.iplink("e1") end))
    end))
  end

  it("netdevsim: simulated hardware on its sysfs bus, ports named and gone with it", sandboxed(function()
    if not io.open("/sys/bus/netdevsim/devices", "r") then
      H.skip("this kernel has no 'netdevsim' support (no /sys/bus/netdevsim; Debian's kernels do " ..
        "not build it, the full-kernel lane builds it from linux-source)")
    end
    local d <close> = assert(vnet.netdevsim.create { ports = 2, names = { "sim0", "sim1" } })
    assert.are.same({ "sim0", "sim1" }, { d.links[1].name, d.links[2].name })
    -- in port order (the kernel numbers them: "p1", "p2" on 6.12)
    local n1 = tonumber(d.links[1].port_name:match("^p(%d+)$"))
    local n2 = tonumber(d.links[2].port_name:match("^p(%d+)$"))
    assert.is_true(n1 < n2)
    for i, n in ipairs { "sim0", "sim1" } do
      local ip = assert(H.iplink(n))
      assert.are.same({ "netdevsim", "netdevsim" .. d.id, d.links[i].port_name },
        { ip.parentbus, ip.parentdev, ip.phys_port_name })
    end
    assert.matches("^vnet.netdevsim: netdevsim%d+ %(2 ports%)$", tostring(d))
    assert.is_true(d:delete())
    assert.is_true(d:delete()) -- twice is fine
    assert.is_nil(H.iplink("sim0"))
    assert.is_nil(H.iplink("sim1"))
  end))

  it("netdevsim: says plainly when the kernel has none, and checks its options", function()
    local nds = vnet.netdevsim
    local bus = nds._bus
    nds._bus = "/nonexistent/netdevsim"
    assert.are.same({ nil, "netdevsim.create: this kernel has no 'netdevsim' support " ..
      "(no /nonexistent/netdevsim: modprobe netdevsim)", 95 }, { nds.create { ports = 1 } })
    nds._bus = bus
    assert.has_error(function() nds.create { ports = 0 } end, "netdevsim.create: option 'ports' must be 1 to 64 (got 0)")
    assert.has_error(function() nds.create { ports = 1, names = { "a", "b" } } end,
      "netdevsim.create: option 'names' has 2 names for 1 port(s)")
    assert.has_error(function() nds.create { prots = 1 } end,
      "netdevsim.create: unknown option 'prots' (known: id, names, ports, queues)")
  end)

  it("kinds that need hardware vnet cannot make say so plainly, leaving nothing", sandboxed(function()
    assert(vnet.veth.create("p0", "p1"))
    for kind, needs in pairs {
      lowpan = "an IEEE 802.15.4 (wpan) link, from a radio driver or mac802154_hwsim",
      ipoib = "an InfiniBand link (an HCA's port, or one made by rdma_rxe)",
      rmnet = "a modem's raw-IP link (ARPHRD_RAWIP, from qmi_wwan or ipa)",
    } do
      assert.are.same({ nil, kind .. ".create hw0: the parent 'p0' has link type ether; " .. kind ..
        " needs " .. needs .. ", which vnet cannot make (see docs/links.md)", 19 },
        { vnet[kind].create { name = "hw0", link = "p0" } })
      assert.has_error(function() vnet[kind].create { name = "hw0" } end,
        kind .. ".create hw0: option 'link' is required (the parent device)")
    end
    assert.are.equal(3, #H.ip("link show")) -- lo, p0, p1
  end))

  it("a kind vnet does not describe goes through the generic path (name + kind)", sandboxed(function()
    H.need_kind("wireguard")
    assert.is_nil(require("vnet._kinds").get("wireguard"))
    local l = assert(vnet.link.create { kind = "wireguard", name = "nlm0", up = true, mtu = 1380 })
    local ip = H.iplink("nlm0")
    assert.are.same({ "wireguard", 1380, true }, { ip.linkinfo.info_kind, ip.mtu, H.has_flag(ip, "UP") })
    assert.are.same({ "wireguard", "none" }, { l.kind, l.link_type })
    assert.has_error(function() vnet.link.create { kind = "wireguard", name = "nlm1", mode = "x" } end,
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

  -- Every other kind is made from the example its own file carries
  -- (`example = {...}` in its define): made, witnessed by iproute2, each
  -- option read back as given (as the decoder reads it), deleted.
  local covered = {}
  for _, c in ipairs(cases) do covered[c.kind] = true end
  for _, name in ipairs(vnet.modules) do
    local d = type(vnet[name]) == "table" and vnet[name].descriptor
    if d and d.example and not covered[name] then
      it(name .. ": its file's example, checked with iproute2, read back, deleted", sandboxed(function()
        H.need_kind(d.kind)
        local o, parent = { name = "k0" }, d.parent == "required" or d.example.link ~= nil
        for k, v in pairs(d.example) do
          o[k] = v
          parent = parent or d.options[k] and d.options[k].fmt == "link"
        end
        if parent then assert(vnet.veth.create("p0", "p1")) end
        local l = assert(vnet[name].create(o))
        local ip = assert(H.iplink("k0"))
        assert.are.same({ d.kind, d.kind }, { ip.linkinfo.info_kind, l.kind })
        for k, v in pairs(d.example) do
          local od, want = d.options[k] or { fmt = "link" }, v
          if od.fmt == "link" then want = assert(H.iplink(v)).ifindex
          elseif od.fmt == "ip" or od.fmt == "ip4" or od.fmt == "ip6" then
            want = require("vnet.nl.core").ntop(select(2, require("vnet.nl.core").pton(v)))
          end
          local got = k == "link" and l.parent or l[k]
          if got == nil and l.info then got = l.info[k] end
          assert.are.same(want, got, name .. ": option '" .. k .. "' read back")
        end
        if o.link then assert.are.equal(o.link, ip.link) end
        assert.is_true(l:delete())
        assert.is_nil(H.iplink("k0"))
      end))
    end
  end

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
      assert.has_error(function() vnet.erspan.create { name = "e0", remote = "10.0.0.2" } end,
        "erspan.create e0: option 'key' is required (the ERSPAN session id, 0 to 1023)")
      assert.has_error(function() vnet.erspan.create { name = "e0", key = 1024 } end,
        "erspan.create e0: option 'key' must be 0 to 1023 (got 1024)")
      assert.has_error(function() vnet.erspan.create { name = "e0", key = 1, erspan_ver = 3 } end,
        "erspan.create e0: option 'erspan_ver' must be 0 to 2 (got 3)")
      assert.has_error(function() vnet.ip6gre.create { name = "e0", flowlabel = 0x100000 } end,
        "ip6gre.create e0: option 'flowlabel' must be 0 to 1048575 (got 1048576)")
      assert.has_error(function() vnet.ip6gre.create { name = "e0", ["local"] = "10.0.0.1" } end,
        "ip6gre.create e0: option 'local' '10.0.0.1' is not an IPv6 address")
      assert.has_error(function() vnet.hsr.create { name = "h0", slave1 = "lo" } end,
        "hsr.create h0: option 'slave2' is required (one of the two links it runs over)")
      assert.has_error(function() vnet.hsr.create { name = "h0", slave1 = "lo", slave2 = "lo", version = 2 } end,
        "hsr.create h0: option 'version' must be 0 to 1 (got 2)")
      assert.has_error(function() vnet.macsec.create { name = "m0" } end,
        "macsec.create m0: option 'link' is required (the parent device)")
      assert.has_error(function() vnet.macsec.create { name = "m0", link = "lo", sci = 1, port = 1 } end,
        "macsec.create m0: options 'sci' and 'port' exclude each other (the sci holds the port)")
      assert.has_error(function() vnet.macsec.create { name = "m0", link = "lo", icvlen = 20 } end,
        "macsec.create m0: option 'icvlen' must be 8 to 16 (got 20)")
      assert.has_error(function() vnet.macsec.create { name = "m0", link = "lo", cipher = "aes" } end,
        "macsec.create m0: option 'cipher' must be one of gcm-aes-128, gcm-aes-256, gcm-aes-xpn-128, " ..
        "gcm-aes-xpn-256 (got 'aes')")
      assert.has_error(function() vnet.netkit.create("n0", "n1", { mode = "l4" }) end,
        "netkit.create n0: option 'mode' must be one of l2, l3 (got 'l4')")
      assert.has_error(function() vnet.vxcan.create("c0", "this-name-is-too-long") end,
        "vxcan.create: name 'this-name-is-too-long' is 21 bytes; interface names are 1 to 15 bytes")
      assert.are.equal(1, #H.ip("link show")) -- only lo: nothing half-made
    end))
  end)
end)
