-- vnet.link: link objects for any link (get, list, fields, set, refresh,
-- stats, delete), links named by name, ifindex or object, addresses,
-- TUN/TAP as ordinary links, the generic create path, dumps retried when
-- interrupted, and the errors a user can act on (ranges and names: issue
-- 9); iproute2 is the witness.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local link, veth, netns = vnet.link, vnet.veth, vnet.netns

describe("vnet.link objects", function()
  H.keeps_host_state(setup, teardown)

  it("adds no globals", function()
    H.adds_no_globals("vnet.link", "vnet.addr", "vnet.veth", "vnet.macvlan", "vnet.bridge",
      "vnet._kinds", "vnet.netns")
  end)

  it("get and list show what iproute2 shows", sandboxed(function()
    local a = assert(veth.create("g0", "g1", { mtu = 1400, address = "02:00:00:00:00:01" }))
    local l = assert(link.get("g0"))
    local ip = H.iplink("g0")
    assert.are.same({ ip.ifindex, ip.ifname, ip.mtu, ip.address, ip.operstate, ip.txqlen },
      { l.ifindex, l.name, l.mtu, l.address, l.operstate, l.txqueuelen })
    assert.are.same({ "veth", "ether", false, "ff:ff:ff:ff:ff:ff" }, { l.kind, l.link_type, l.up, l.broadcast })
    local theirs = {}
    for _, x in ipairs(ip.flags) do
      if x ~= "M-DOWN" and x ~= "NO-CARRIER" then theirs[#theirs + 1] = x end
    end
    assert.are.same(theirs, l.flags) -- iproute2 adds words of its own
    assert.are.equal(l, assert(link.get(a.ifindex)))
    assert.are.equal(l, assert(link.get(a)))
    local names = {}
    for _, x in ipairs(assert(link.list())) do names[#names + 1] = x.name end
    assert.are.same({ "lo", "g1", "g0" }, names) -- in ifindex order
    assert.are.same({ nil, "link.get nosuch0: No such device", 19 }, { link.get("nosuch0") })
    assert.are.same({ nil, "link.get #999: No such device", 19 }, { link.get(999) })
  end))

  it("sets up, mtu, address, name, txqueuelen, master; refresh and stats follow", sandboxed(function()
    local a = assert(veth.create("s0", "s1", { peer_up = true }))
    local br = assert(vnet.bridge.create { name = "br0" })
    assert.is_true(a:set { up = true, mtu = 1300, address = "02:00:00:00:00:09", txqueuelen = 77,
      master = br })
    local ip = H.iplink("s0")
    assert.are.same({ 1300, "02:00:00:00:00:09", 77, "br0" }, { ip.mtu, ip.address, ip.txqlen, ip.master })
    assert.are.same({ 1300, "02:00:00:00:00:09", 77, br.ifindex, true },
      { a.mtu, a.address, a.txqueuelen, a.master, a.up })
    assert.is_true(a:set { nomaster = true, up = false })
    assert.is_nil(H.iplink("s0").master)
    assert.is_nil(a.master)
    assert.is_true(a:set { name = "renamed0" })
    assert.are.equal("renamed0", a.name)
    assert.is_not_nil(H.iplink("renamed0"))
    -- changed behind its back: refresh reads it again
    H.sh("ip link set renamed0 mtu 1280")
    assert.are.equal(1300, a.mtu)
    assert.are.equal(a, a:refresh())
    assert.are.equal(1280, a.mtu)
    local st = assert(a:stats())
    for _, k in ipairs { "rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_errors",
      "tx_errors", "rx_dropped", "tx_dropped", "multicast", "collisions" } do
      assert.is_number(st[k], k)
    end
  end))

  it("module-level index, set and delete take names, ifindexes and objects (a device too)", sandboxed(function()
    local a = assert(veth.create("m0", "m1"))
    assert.are.equal(a.ifindex, link.index("m0"))
    assert.is_true(link.set("m0", { up = true }))
    assert.is_true(link.set(a.ifindex, { mtu = 1400 }))
    assert.are.same({ 1400, true }, { H.iplink("m0").mtu, H.has_flag(H.iplink("m0"), "UP") })
    local dev <close> = assert(vnet.tun.open { name = "l0" })
    assert.is_true(link.set(dev, { mtu = 1300, up = true }))
    assert.is_true(link.set(dev, { up = false }))
    assert.are.same({ 1300, false }, { H.iplink("l0").mtu, H.has_flag(H.iplink("l0"), "UP") })
    assert.is_true(link.delete("m1"))
    assert.is_nil(H.iplink("m0"))
    assert.are.same({ nil, "link.delete m0: No such device", 19 }, { link.delete("m0") })
  end))

  it("treats a TUN as an ordinary link: get, addresses, master, netns", sandboxed(function()
    local ns <close> = assert(netns.create())
    local dev = assert(vnet.tun.open { name = "tun0", persist = true })
    local l = assert(link.get("tun0"))
    assert.are.same({ "tun", "none", dev.ifindex }, { l.kind, l.link_type, l.ifindex })
    assert.are.same({ "tun", false, true }, { l.type, l.pi, l.persist }) -- IFLA_TUN_* read back
    local t = assert(dev:link())
    assert.are.equal(l, t)
    assert(l:addr_add("10.7.0.1/24"))
    assert.are.equal("10.7.0.1/24", l:addrs()[1].cidr)
    local tap <close> = assert(vnet.tap.open { name = "tap0" })
    local br = assert(vnet.bridge.create { name = "br0" })
    assert.is_true(assert(tap:link()):set { master = br })
    assert.are.equal("br0", H.iplink("tap0").master)
    dev:close() -- persistent: it stays, and moves
    assert.is_true(l:set { netns = ns })
    assert.is_nil(H.iplink("tun0"))
    assert.are.equal("tun", H.iplink_in(ns, "tun0").linkinfo.info_kind)
    assert.are.equal(ns, l.netns)
    assert.is_true(l:delete())
    assert.is_nil(H.iplink_in(ns, "tun0"))
  end))

  it("creates straight into another namespace with netns =", sandboxed(function()
    local ns <close> = assert(netns.create())
    local b = assert(vnet.bridge.create { name = "brx", netns = ns, up = true })
    assert.is_nil(H.iplink("brx"))
    assert.is_true(H.has_flag(H.iplink_in(ns, "brx"), "UP"))
    assert.are.equal(ns, b.netns)
    assert.is_true(b:set { mtu = 1400 })
    assert.are.equal(1400, H.iplink_in(ns, "brx").mtu)
  end))

  it("raises when a link object is used from another namespace it cannot reach", sandboxed(function()
    local ns <close> = assert(netns.create())
    local l = ns:run(function()
      return assert(link.get("lo"))
    end)
    assert.are.equal(ns, l.netns) -- read inside ns:run: it knows its namespace
    assert.is_true(l:refresh() == l)
    local loose = ns:run(function() return link._wrap(assert(require("vnet.link.core").get("lo",
      "x", "lo")), nil, ns:id()) end)
    assert.has_error(function() loose:refresh() end,
      "link.refresh lo: the link is in another network namespace; use it from there (ns:run) " ..
      "or get it with link.get inside that namespace")
  end))

  it("asks again for a dump the kernel reports interrupted", sandboxed(function()
    local nl = require "vnet.nl.core"
    assert(veth.create("d0", "d1"))
    nl._inject_dump_intr(3)
    local all = assert(link.list())
    assert.are.equal(3, #all) -- whole, not half
    nl._inject_dump_intr(2)
    assert.are.equal(2, #assert(vnet.addr.list("lo"))) -- 127.0.0.1 and ::1
    nl._inject_dump_intr(1000)
    local ok, err, eno = link.list()
    nl._inject_dump_intr(0)
    assert.are.same({ nil, "link.list: Interrupted system call (the kernel interrupted the " ..
      "dump 10 times in a row; try again)", 4 }, { ok, err, eno })
  end))

  it("says CAP_NET_ADMIN is missing, and how to get it", sandboxed(function()
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write('print(select(2, vnet.veth.create("np0", "np1")), select(3, vnet.veth.create("np0", "np1")))\n',
      'print((select(2, vnet.link.set("lo", {mtu = 1280}))))\n')
    f:close()
    os.execute("chmod 644 " .. script)
    local out, rc = H.sh("setpriv --bounding-set=-net_admin --inh-caps=-net_admin " .. H.vnet .. " " .. script)
    os.remove(script)
    assert.are.equal(0, rc, out)
    local hint = "needs CAP_NET_ADMIN: run as root or with sudo, or explore in a private " ..
      "namespace with `vnet --sandbox`"
    assert.are.equal("veth.create np0: Operation not permitted (" .. hint .. ")\t1\n" ..
      "link.set lo: Operation not permitted (" .. hint .. ")\n", out)
    assert.is_nil(H.iplink("np0"))
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
