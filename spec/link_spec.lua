-- vnet.link: the link and address helpers the devices use, witnessed by
-- iproute2.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local link = vnet.link

describe("vnet.link", function()
  it("names links by name, ifindex or object", sandboxed(function()
    local dev <close> = assert(vnet.tun.open { name = "l0" })
    assert.are.equal(dev.ifindex, link.index("l0"))
    assert.is_true(link.set(dev.ifindex, { up = true }))
    assert.is_true(link.set("l0", { mtu = 1300 }))
    assert.is_true(link.set(dev, { up = false }))
    local l = H.iplink("l0")
    assert.are.equal(1300, l.mtu)
    assert.is_false(H.has_flag(l, "UP"))
  end))

  it("adds, lists and deletes IPv4 and IPv6 addresses", sandboxed(function()
    local dev <close> = assert(vnet.tap.open { name = "a0" })
    assert(dev:up())
    assert.is_true(link.addr_add("a0", "192.0.2.1/24"))
    assert.is_true(link.addr_add("a0", "2001:db8::1/64"))
    assert.is_true(link.addr_add("a0", "198.51.100.1", { peer = "198.51.100.2" }))
    local seen = {}
    for _, a in ipairs(H.ip("addr show dev a0")[1].addr_info) do
      seen[#seen + 1] = a["local"] .. "/" .. a.prefixlen .. (a.address and (" peer " .. a.address) or "")
    end
    assert.is_true(#seen >= 3)
    local mine = {}
    for _, a in ipairs(link.addrs(dev)) do
      if a.scope == "global" then mine[a.cidr] = a end
    end
    assert.are.equal("inet", mine["192.0.2.1/24"].family)
    assert.are.equal("inet6", mine["2001:db8::1/64"].family)
    assert.are.equal("198.51.100.2", mine["198.51.100.1/32"].peer)
    assert.is_true(link.addr_del("a0", "192.0.2.1/24"))
    for _, a in ipairs(H.ip("addr show dev a0")[1].addr_info) do
      assert.are_not.equal("192.0.2.1", a["local"])
    end
  end))

  describe("errors", function()
    it("name the operation, the link and the kernel's reason", sandboxed(function()
      assert.are.same({ nil, "link.set nosuch0: No such device", 19 },
        { link.set("nosuch0", { up = true }) })
      assert.are.same({ nil, "link.index nosuch0: No such device", 19 },
        { link.index("nosuch0") })
      local dev <close> = assert(vnet.tun.open { name = "e0" })
      assert(link.addr_add(dev, "10.1.1.1/24"))
      assert.are.same({ nil, "link.addr_add e0: File exists (ipv4: Address already assigned)", 17 },
        { link.addr_add(dev, "10.1.1.1/24") })
      assert.are.same({ nil, "link.set e0: File exists", 17 }, { link.set(dev, { name = "lo" }) })
      local r = H.iplink("e0")
      assert.has_error(function() link.set(dev, { mtu = 0 }) end, string.format( -- issue 9: say the range
        "link.set e0: option 'mtu' 0 out of range (%d to %d)", r.min_mtu, r.max_mtu))
    end))

    it("raise on misuse", sandboxed(function()
      assert.has_error(function() link.addr_add("lo", "not-an-address") end,
        "link.addr_add lo: 'not-an-address' is not an IPv4 or IPv6 address")
      assert.has_error(function() link.set("lo", { mtu = "big" }) end,
        "link.set: option 'mtu' must be integer (got string)")
      assert.has_error(function() link.set("lo", { upp = true }) end,
        "link.set: unknown option 'upp' (known: address, master, mtu, name, netns, nomaster, txqueuelen, up)")
      assert.has_error(function() link.set({}, { up = true }) end,
        "link.set: expected a link name, ifindex or link object (got table)")
      assert.has_error(function() link.addr_add("lo", "10.0.0.1", { peer = "fe80::1" }) end,
        "link.addr_add lo: peer 'fe80::1' is not an address of the same family")
    end))
  end)
end)

describe("vnet.link ranges and names (issue 9)", function()
  it("refuses an ifindex outside 1..2^31-1 instead of aborting or cutting it to 32 bits", sandboxed(function()
    local dev <close> = assert(vnet.tun.open { name = "k0" })
    local k = dev.ifindex
    for _, bad in ipairs { -1, 0, 1 << 31, (1 << 32) + 1, (1 << 32) + k, math.mininteger, math.maxinteger } do
      local want = string.format("ifindex %d out of range (1 to 2147483647)", bad)
      assert.has_error(function() link.get(bad) end, "link.get: " .. want)
      assert.has_error(function() link.delete(bad) end, "link.delete: " .. want)
      assert.has_error(function() link.set(bad, { up = true }) end, "link.set: " .. want)
      assert.has_error(function() link.set("k0", { master = bad }) end, "link.set: " .. want)
      assert.has_error(function() link.create { kind = "macvlan", name = "m0", link = bad } end,
        "link.create: " .. want)
    end
    assert.are.equal(k, H.iplink("k0").ifindex) -- link k is still there, untouched
    assert.is_nil(H.iplink("k0").master)
  end))

  it("refuses u32 options out of range, and says the MTU range of the link", sandboxed(function()
    local dev <close> = assert(vnet.tap.open { name = "k0" })
    local qlen = H.iplink("k0").txqlen
    assert.has_error(function() link.set("k0", { txqueuelen = -1 }) end,
      "link.set k0: option 'txqueuelen' -1 out of range (0 to 4294967295)")
    assert.has_error(function() link.set("k0", { txqueuelen = (1 << 32) + 1 }) end,
      "link.set k0: option 'txqueuelen' 4294967297 out of range (0 to 4294967295)")
    assert.are.equal(qlen, H.iplink("k0").txqlen)
    local r = H.iplink("k0")
    for _, bad in ipairs { 10, r.max_mtu + 1 } do
      assert.has_error(function() link.set("k0", { mtu = bad }) end, string.format(
        "link.set k0: option 'mtu' %d out of range (%d to %d)", bad, r.min_mtu, r.max_mtu))
    end
    assert.is_true(link.set("k0", { mtu = 2 ^ 10 })) -- a float with an integer value is that integer
    assert.are.equal(1024, H.iplink("k0").mtu)
  end))

  it("refuses names with '%' or NUL over rtnetlink, leaving no device behind", sandboxed(function()
    local makers = {
      { "link.create", function(n) return link.create { kind = "veth", name = n } end },
      { "veth.create", function(n) return vnet.veth.create(n, "p0") end },
      { "bridge.create", function(n) return vnet.bridge.create { name = n } end },
      { "macvlan.create", function(n) return vnet.macvlan.create { name = n, link = "lo" } end },
      { "macvtap.create", function(n) return vnet.macvtap.create { name = n, link = "lo" } end },
    }
    for _, m in ipairs(makers) do
      assert.has_error(function() m[2]("x%d") end,
        m[1] .. ": name 'x%d' has a '%': the kernel would choose the name; give the name itself")
      assert.has_error(function() m[2]("a\0b") end, m[1] .. ": name 'a\\0b' contains a NUL byte")
    end
    assert.has_error(function() link.set("lo", { name = "lo%d" }) end,
      "link.set: name 'lo%d' has a '%': the kernel would choose the name; give the name itself")
    assert.has_error(function() vnet.veth.create("x", "p%d") end,
      "veth.create: name 'p%d' has a '%': the kernel would choose the name; give the name itself")
    assert.are.equal(1, #H.ip("link show")) -- only lo
  end))

  it("says which option a refused request cannot take", sandboxed(function(ns)
    local a = assert(vnet.veth.create("s0", "s1"))
    assert(vnet.bridge.create { name = "b0" })
    local other <close> = assert(vnet.netns.create())
    assert.has_error(function() a:set { master = "b0", netns = other } end,
      "link.set s0: options 'netns' and 'master' cannot go in one request (the kernel refuses it): " ..
      "move the link first, then set its master in its new namespace")
    assert.is_table(H.iplink("s0")) -- still here, no master
    assert.is_nil(H.iplink("s0").master)
  end))
end)
