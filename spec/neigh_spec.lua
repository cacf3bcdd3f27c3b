-- vnet.neigh: static ARP/NDP entries, listed and deleted, and traffic
-- that needs no ARP because of them.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local neigh, veth, netns = vnet.neigh, vnet.veth, vnet.netns

describe("vnet.neigh", function()
  H.keeps_host_state(setup, teardown)

  it("adds, replaces, lists and deletes entries, IPv4 and IPv6", sandboxed(function()
    local a = assert(veth.create("n0", "n1", { up = true }))
    assert.is_true(neigh.add("n0", "10.40.0.2", "02:00:00:00:00:02"))
    assert.is_true(neigh.add(a, "2001:db8::2", "02:00:00:00:00:03", { router = true }))
    local ip = {}
    for _, n in ipairs(H.ip("neigh show dev n0")) do ip[n.dst] = n end
    assert.are.same({ "02:00:00:00:00:02", { "PERMANENT" } }, { ip["10.40.0.2"].lladdr, ip["10.40.0.2"].state })
    assert.matches("router", H.sh("ip neigh show dev n0 to 2001:db8::2")) -- JSON says null
    local mine = {}
    for _, n in ipairs(assert(neigh.list("n0"))) do mine[n.dst] = n end
    assert.are.same({ "inet", "02:00:00:00:00:02", { "PERMANENT" }, "n0", a.ifindex, false },
      { mine["10.40.0.2"].family, mine["10.40.0.2"].lladdr, mine["10.40.0.2"].state, mine["10.40.0.2"].dev,
        mine["10.40.0.2"].ifindex, mine["10.40.0.2"].router })
    assert.are.same({ "inet6", true }, { mine["2001:db8::2"].family, mine["2001:db8::2"].router })
    assert.are.same({ nil, "neigh.add n0: File exists", 17 },
      { neigh.add("n0", "10.40.0.2", "02:00:00:00:00:09") })
    assert.is_true(neigh.replace("n0", "10.40.0.2", "02:00:00:00:00:09", { state = "stale" }))
    local n = H.ip("neigh show dev n0 to 10.40.0.2")[1]
    assert.are.same({ "02:00:00:00:00:09", { "STALE" } }, { n.lladdr, n.state })
    assert.is_true(neigh.del("n0", "10.40.0.2"))
    assert.are.same({}, H.ip("neigh show dev n0 to 10.40.0.2"))
    assert.are.same({ nil, "neigh.del n0: No such file or directory", 2 }, { neigh.del("n0", "10.40.0.2") })
    for _, e in ipairs(assert(neigh.list(nil, { family = "inet6" }))) do assert.are.equal("inet6", e.family) end
  end))

  it("lets a ping through without ARP when both sides are wired statically", sandboxed(function()
    local n1 <close> = assert(netns.create())
    local n2 <close> = assert(netns.create())
    local a, b = assert(veth.create("s0", "s1", { netns = n1, peer_netns = n2, up = true, peer_up = true }))
    for _, l in ipairs { a, b } do assert(l:set { up = true }) end
    assert(a:addr_add("10.41.0.1/24")); assert(b:addr_add("10.41.0.2/24"))
    -- no ARP on either side: only the static entries can make this work
    assert(n1:exec { "ip", "link", "set", "s0", "arp", "off" })
    assert(n2:exec { "ip", "link", "set", "s1", "arp", "off" })
    assert.is_false((H.ping(n1, "10.41.0.2")))
    -- (the failed ping left NOARP entries pointing at the wrong address)
    assert(n1:run(neigh.replace, "s0", "10.41.0.2", b.address))
    assert(n2:run(neigh.replace, "s1", "10.41.0.1", a.address))
    local ok, out = H.ping(n1, "10.41.0.2", 2)
    assert.is_true(ok, out)
  end))

  describe("bad input", function()
    it("raises on misuse, naming what is wrong", sandboxed(function()
      assert.has_error(function() neigh.add("lo", "10.0.0.300", "02:00:00:00:00:01") end,
        "neigh.add lo: '10.0.0.300' is not an IPv4 or IPv6 address")
      assert.has_error(function() neigh.add("lo", "10.0.0.3", "02:00:00:00:00") end,
        "neigh.add lo: '02:00:00:00:00' is not a MAC address (aa:bb:cc:dd:ee:ff)")
      assert.has_error(function() neigh.add("lo", "10.0.0.3") end,
        "neigh.add lo: a link-layer address is needed")
      assert.has_error(function() neigh.add("lo", "10.0.0.3", "02:00:00:00:00:01", { state = "happy" }) end,
        "neigh.add lo: option 'state' must be one of delay, failed, incomplete, noarp, permanent, " ..
        "probe, reachable, stale (got 'happy')")
      assert.has_error(function() neigh.add("lo", "10.0.0.3", "02:00:00:00:00:01", { sate = "stale" }) end,
        "neigh.add: unknown option 'sate' (known: proxy, router, state)")
      assert.are.same({ nil, "neigh.add nosuch0: No such device", 19 },
        { neigh.add("nosuch0", "10.0.0.3", "02:00:00:00:00:01") })
    end))
  end)
end)
