-- vnet.addr: IPv4 and IPv6 addresses with peer, broadcast, scope, label,
-- flags and lifetimes; list, flush; iproute2 as the witness.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local addr = vnet.addr

local function ipaddrs(dev)
  local out = {}
  for _, a in ipairs(H.ip("addr show dev " .. dev)[1].addr_info) do out[a["local"]] = a end
  return out
end

describe("vnet.addr", function()
  H.keeps_host_state(setup, teardown)

  it("adds IPv4 with broadcast, scope and label, and IPv6 with flags", sandboxed(function()
    local a = assert(vnet.veth.create("a0", "a1", { up = true }))
    assert.is_true(addr.add("a0", "10.10.0.1/24", { broadcast = "+", label = "a0:web" }))
    assert.is_true(addr.add(a, "10.10.1.1/24", { scope = "link", broadcast = "10.10.1.127" }))
    assert.is_true(addr.add(a.ifindex, "2001:db8::1/64", { nodad = true, noprefixroute = true }))
    assert.is_true(addr.add("a0", "2001:db8:1::1/64", { valid_lft = 300, preferred_lft = 100 }))
    local ip = ipaddrs("a0")
    assert.are.same({ 24, "10.10.0.255", "a0:web", "global" },
      { ip["10.10.0.1"].prefixlen, ip["10.10.0.1"].broadcast, ip["10.10.0.1"].label, ip["10.10.0.1"].scope })
    assert.are.same({ "10.10.1.127", "link" }, { ip["10.10.1.1"].broadcast, ip["10.10.1.1"].scope })
    assert.is_true(ip["2001:db8::1"].nodad)
    assert.is_true(ip["2001:db8::1"].noprefixroute)
    assert.are.same({ 300, 100 }, { ip["2001:db8:1::1"].valid_life_time, ip["2001:db8:1::1"].preferred_life_time })
    local mine = {}
    for _, x in ipairs(assert(addr.list("a0"))) do mine[x.cidr] = x end
    assert.are.same({ "inet", "10.10.0.255", "a0:web", "global", a.ifindex },
      { mine["10.10.0.1/24"].family, mine["10.10.0.1/24"].broadcast, mine["10.10.0.1/24"].label,
        mine["10.10.0.1/24"].scope, mine["10.10.0.1/24"].ifindex })
    assert.are.equal("link", mine["10.10.1.1/24"].scope)
    local flags = table.concat(mine["2001:db8::1/64"].flags, " ")
    assert.matches("nodad", flags)
    assert.matches("noprefixroute", flags)
    assert.matches("permanent", flags)
    assert.are.equal(-1, mine["2001:db8::1/64"].valid_lft) -- forever
    assert.is_true(mine["2001:db8:1::1/64"].valid_lft <= 300)
    -- filters
    for _, x in ipairs(assert(addr.list("a0", { family = "inet6" }))) do assert.are.equal("inet6", x.family) end
    for _, x in ipairs(assert(addr.list(nil, { scope = "link" }))) do assert.are.equal("link", x.scope) end
  end))

  it("adds a point-to-point address with a peer, deletes, replaces and flushes", sandboxed(function()
    local dev <close> = assert(vnet.tun.open { name = "p0" })
    assert.is_true(addr.add(dev, "10.11.0.1", { peer = "10.11.0.2" }))
    assert.are.equal("10.11.0.2", ipaddrs("p0")["10.11.0.1"].address)
    assert.are.same({ nil, "addr.add p0: File exists (ipv4: Address already assigned)", 17 },
      { addr.add(dev, "10.11.0.1", { peer = "10.11.0.2" }) })
    assert.is_true(addr.add(dev, "10.11.0.1", { peer = "10.11.0.2", replace = true }))
    assert.is_true(addr.del(dev, "10.11.0.1", { peer = "10.11.0.2" }))
    assert.is_nil(ipaddrs("p0")["10.11.0.1"])
    assert.are.same({ nil, "addr.del p0: Cannot assign requested address (ipv4: Address not found)", 99 },
      { addr.del(dev, "10.11.0.1/32") })
    assert(addr.add(dev, "10.11.1.1/24")); assert(addr.add(dev, "10.11.1.2/24")) -- a secondary
    assert(addr.add(dev, "2001:db8::5/64", { nodad = true }))
    assert.are.equal(1, addr.flush(dev, { family = "inet6" }))
    assert.is_nil(ipaddrs("p0")["2001:db8::5"])
    assert.is_true(assert(addr.flush("p0")) >= 1)
    assert.are.same({}, assert(addr.list("p0", { family = "inet" })))
  end))

  it("keeps link.addr_add and dev:addr_add working", sandboxed(function()
    local dev <close> = assert(vnet.tap.open { name = "k0" })
    assert.is_true(vnet.link.addr_add("k0", "192.0.2.1/24", { label = "k0:x" }))
    assert.is_true(dev:addr_add("192.0.2.2/24"))
    assert.are.equal(2, #dev:addrs())
    assert.are.same({ nil, "link.addr_add k0: File exists (ipv4: Address already assigned)", 17 },
      { vnet.link.addr_add("k0", "192.0.2.1/24") })
  end))

  describe("bad input", function()
    it("raises on misuse, naming the option", sandboxed(function()
      assert.has_error(function() addr.add("lo", "10.0.0.300/24") end,
        "addr.add lo: '10.0.0.300/24' is not an IPv4 or IPv6 address")
      assert.has_error(function() addr.add("lo", "10.0.0.1/24", { peer = "::1" }) end,
        "addr.add lo: peer '::1' is not an address of the same family")
      assert.has_error(function() addr.add("lo", "10.0.0.1/24", { broadcast = "::1" }) end,
        "addr.add lo: broadcast '::1' is not an address of the same family")
      assert.has_error(function() addr.add("lo", "2001:db8::1/64", { broadcast = "+" }) end,
        "addr.add lo: broadcast '+' needs an IPv4 address with a prefix length (got '2001:db8::1/64')")
      assert.has_error(function() addr.add("lo", "10.0.0.1/24", { scope = "galaxy" }) end,
        "addr.add lo: option 'scope' must be global, site, link, host or a number (got 'galaxy')")
      assert.has_error(function() addr.add("lo", "10.0.0.1/24", { label = "eth0:x" }) end,
        "addr.add lo: option 'label' must be 'lo' or start with 'lo:' (got 'eth0:x')")
      assert.has_error(function() addr.add("lo", "10.0.0.1/24", { lable = "lo" }) end,
        "addr.add: unknown option 'lable' (known: autojoin, broadcast, home, label, mngtmpaddr, " ..
        "nodad, noprefixroute, peer, preferred_lft, replace, scope, valid_lft)")
      assert.has_error(function() addr.add("lo", 42) end, "addr.add lo: address must be a string")
      assert.has_error(function() addr.list("lo", { family = "ipx" }) end,
        "addr.list: option 'family' must be inet or inet6 (got 'ipx')")
      assert.has_error(function() addr.flush() end,
        "addr.flush: expected a link name, ifindex or link object (got nil)")
      assert.are.same({ nil, "addr.add nosuch0: No such device", 19 }, { addr.add("nosuch0", "10.0.0.1/24") })
      assert.are.equal(2, #assert(addr.list("lo"))) -- nothing was added
    end))
  end)
end)

describe("vnet.addr ranges and syntax (issue 9)", function()
  it("flush of an ifindex out of range raises and removes nothing", sandboxed(function()
    local dev <close> = assert(vnet.tun.open { name = "f0" })
    assert(addr.add("f0", "10.7.0.1/24"))
    for _, bad in ipairs { math.mininteger, -1, (1 << 32) + dev.ifindex } do
      assert.has_error(function() addr.flush(bad) end,
        string.format("addr.flush: ifindex %d out of range (1 to 2147483647)", bad))
      assert.has_error(function() addr.list(bad) end,
        string.format("addr.list: ifindex %d out of range (1 to 2147483647)", bad))
    end
    assert.is_table(ipaddrs("f0")["10.7.0.1"])
  end))

  it("takes the one address syntax: nothing after /len, a decimal length in range", sandboxed(function()
    local dev <close> = assert(vnet.tun.open { name = "f0" })
    for _, bad in ipairs { "10.0.0.1/24x", "10.0.0.2/24/3", "10.0.0.9/8.5", "10.0.0.1/33",
        "10.0.0.1/", "10.0.0.1/+8", "2001:db8::1/129", "10.0.0.1\0/8" } do
      local shown = bad:gsub("%z", "\\0")
      assert.has_error(function() addr.add("f0", bad) end,
        "addr.add f0: '" .. shown .. "' is not an IPv4 or IPv6 address")
      assert.has_error(function() addr.del("f0", bad) end,
        "addr.del f0: '" .. shown .. "' is not an IPv4 or IPv6 address")
    end
    assert.is_nil(H.ip("addr show dev f0")[1].addr_info[1]) -- nothing was added
    assert.is_true(addr.add("f0", "10.0.0.9/8"))
    assert.are.equal(8, ipaddrs("f0")["10.0.0.9"].prefixlen)
  end))
end)
