-- vnet.route: add, replace, del, list and get, IPv4 and IPv6, witnessed by
-- `ip -j route`; and traffic that follows a route through a gateway.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local route, veth, netns = vnet.route, vnet.veth, vnet.netns

local function iproutes(args)
  local out = {}
  for _, r in ipairs(H.ip("route show " .. (args or ""))) do out[r.dst] = r end
  return out
end

describe("vnet.route", function()
  H.keeps_host_state(setup, teardown)

  it("adds, lists, replaces and deletes routes", sandboxed(function()
    local a = assert(veth.create("r0", "r1", { up = true, peer_up = true }))
    assert(a:addr_add("10.20.0.1/24"))
    assert(a:addr_add("2001:db8:20::1/64", { nodad = true }))
    assert.is_true(route.add { dst = "10.21.0.0/16", via = "10.20.0.254" })
    assert.is_true(route.add { dst = "default", dev = "r0", metric = 100 })
    assert.is_true(route.add { dst = "192.0.2.0/24", type = "blackhole" })
    assert.is_true(route.add { dst = "10.22.0.0/16", dev = a, src = "10.20.0.1", protocol = "static",
      table = 100 })
    assert.is_true(route.add { dst = "2001:db8:21::/48", via = "2001:db8:20::fe" })
    local ip = iproutes()
    assert.are.same({ "10.20.0.254", "r0" }, { ip["10.21.0.0/16"].gateway, ip["10.21.0.0/16"].dev })
    assert.are.same({ "r0", 100 }, { ip.default.dev, ip.default.metric })
    assert.are.equal("blackhole", ip["192.0.2.0/24"].type)
    assert.is_nil(ip["10.22.0.0/16"]) -- in table 100, not main
    local t100 = iproutes("table 100")
    assert.are.same({ "r0", "10.20.0.1", "static" },
      { t100["10.22.0.0/16"].dev, t100["10.22.0.0/16"].prefsrc, t100["10.22.0.0/16"].protocol })
    assert.are.equal("2001:db8:20::fe", H.ip("-6 route show 2001:db8:21::/48")[1].gateway)
    local mine = {}
    for _, r in ipairs(assert(route.list())) do mine[r.dst] = r end
    assert.are.same({ "inet", "10.20.0.254", "r0", a.ifindex, 254, "global", "boot", "unicast" },
      { mine["10.21.0.0/16"].family, mine["10.21.0.0/16"].via, mine["10.21.0.0/16"].dev,
        mine["10.21.0.0/16"].ifindex, mine["10.21.0.0/16"].table, mine["10.21.0.0/16"].scope,
        mine["10.21.0.0/16"].protocol, mine["10.21.0.0/16"].type })
    assert.are.same({ 100, "link" }, { mine.default.metric, mine.default.scope })
    assert.are.equal("blackhole", mine["192.0.2.0/24"].type)
    assert.is_nil(mine["10.22.0.0/16"])
    local t = {}
    for _, r in ipairs(assert(route.list { table = 100 })) do t[r.dst] = r end
    assert.are.same({ "10.20.0.1", "static", 100 }, { t["10.22.0.0/16"].src, t["10.22.0.0/16"].protocol,
      t["10.22.0.0/16"].table })
    local v6 = {}
    for _, r in ipairs(assert(route.list { family = "inet6" })) do v6[r.dst] = r end
    assert.are.equal("2001:db8:20::fe", v6["2001:db8:21::/48"].via)
    -- replace, then delete
    assert.is_true(route.replace { dst = "10.21.0.0/16", dev = "r0" })
    assert.is_nil(iproutes()["10.21.0.0/16"].gateway)
    assert.is_true(route.del { dst = "10.21.0.0/16" })
    assert.is_nil(iproutes()["10.21.0.0/16"])
    assert.is_true(route.del { dst = "10.22.0.0/16", table = 100 })
    assert.is_nil(iproutes("table 100")["10.22.0.0/16"])
  end))

  it("says which route the kernel would use", sandboxed(function()
    local a = assert(veth.create("r0", "r1", { up = true, peer_up = true }))
    assert(a:addr_add("10.20.0.1/24"))
    assert(route.add { dst = "10.21.0.0/16", via = "10.20.0.254" })
    local r = assert(route.get("10.21.3.4"))
    assert.are.same({ "10.21.3.4/32", "10.20.0.254", "r0", "10.20.0.1" }, { r.dst, r.via, r.dev, r.src })
    assert.are.equal("lo", assert(route.get("127.0.0.1")).dev)
    assert.are.same({ nil, "route.get 10.99.0.1: Network is unreachable", 101 }, { route.get("10.99.0.1") })
  end))

  it("carries traffic through a gateway namespace", sandboxed(function()
    -- left -- gw -- right, each a namespace; left and right route via gw
    local left <close> = assert(netns.create())
    local gw <close> = assert(netns.create())
    local right <close> = assert(netns.create())
    local l0, g0 = assert(veth.create("l0", "g0", { netns = left, peer_netns = gw, up = true, peer_up = true }))
    local r0, g1 = assert(veth.create("r0", "g1", { netns = right, peer_netns = gw, up = true, peer_up = true }))
    assert(l0:addr_add("10.30.1.2/24")); assert(g0:addr_add("10.30.1.1/24"))
    assert(r0:addr_add("10.30.2.2/24")); assert(g1:addr_add("10.30.2.1/24"))
    gw:run(function() -- /proc/sys/net is the namespace of whoever opens it
      local f = assert(io.open("/proc/sys/net/ipv4/ip_forward", "w"))
      f:write("1\n")
      f:close()
    end)
    assert.is_false((H.ping(left, "10.30.2.2"))) -- no route yet
    assert(left:run(route.add, { dst = "default", via = "10.30.1.1" }))
    assert(right:run(route.add, { dst = "10.30.1.0/24", via = "10.30.2.1" }))
    local ok, out = H.ping(left, "10.30.2.2", 2)
    assert.is_true(ok, out)
  end))

  describe("bad input", function()
    it("raises on misuse and returns the kernel's reason", sandboxed(function()
      assert.has_error(function() route.add {} end,
        "route.add: option 'dst' is required (a prefix, an address or \"default\")")
      assert.has_error(function() route.add { dst = "10.0.0.0/33x" } end,
        "route.add 10.0.0.0/33x: option 'dst' '10.0.0.0/33x' is not an IPv4 or IPv6 address (or \"default\")")
      assert.has_error(function() route.add { dst = "10.0.0.0/8", via = "fe80::1" } end,
        "route.add 10.0.0.0/8: option 'via' 'fe80::1' is not an address of the same family")
      assert.has_error(function() route.add { dst = "10.0.0.0/8", table = "nosuch" } end,
        "route.add 10.0.0.0/8: option 'table': unknown table 'nosuch'")
      assert.has_error(function() route.add { dst = "10.0.0.0/8", type = "wormhole" } end,
        "route.add 10.0.0.0/8: option 'type': unknown type 'wormhole'")
      assert.has_error(function() route.add { dst = "10.0.0.0/8", gateway = "10.0.0.1" } end,
        "route.add: unknown option 'gateway' (known: dev, dst, family, metric, protocol, scope, " ..
        "src, table, type, via)")
      assert.has_error(function() route.get(5) end, "route.get: expected an address (got number)")
      assert.are.same({ nil, "route.add 10.0.0.0/8: Network is unreachable (Nexthop has invalid gateway)", 101 },
        { route.add { dst = "10.0.0.0/8", via = "10.1.1.1" } })
      assert.are.same({ nil, "route.add 10.0.0.0/8: No such device (dev 'nosuch0')", 19 },
        { route.add { dst = "10.0.0.0/8", dev = "nosuch0" } })
      assert.are.same({ nil, "route.del 10.0.0.0/8: No such process (no route matches)", 3 },
        { route.del { dst = "10.0.0.0/8" } })
      assert.are.same({}, assert(route.list()))
    end))
  end)
end)
