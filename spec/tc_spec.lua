-- vnet.tc: qdiscs, classes and filters set through libnl-route, read back
-- and compared with `tc -j`, traffic as witness (ping RTT under netem,
-- ifb counters under a redirect), and misuse errors at the caller's line.
local H = require "spec.helper"
local json = require "dkjson"
local sandboxed = H.sandboxed
local tc, veth, netns = vnet.tc, vnet.veth, vnet.netns

local tcj, need_qdisc = H.tcj, H.need_qdisc

-- n0 (10.78.0.1) here, up, joined by a veth to n1 (10.78.0.2) in a new
-- namespace: that namespace, for the caller to close
local function linked_peer()
  local peer = assert(netns.create())
  local a = assert(veth.create("n0", "n1", { peer_netns = peer }))
  assert(a:set { up = true }); assert(a:addr_add("10.78.0.1/24"))
  peer:run(function()
    local b = assert(vnet.link.get("n1"))
    assert(b:set { up = true }); assert(b:addr_add("10.78.0.2/24"))
  end)
  return peer
end

local function root_of(dev)
  for _, q in ipairs(tcj("qdisc show dev " .. dev)) do if q.root then return q end end
end

describe("vnet.tc", function()
  H.keeps_host_state(setup, teardown)

  it("adds no globals", function() H.adds_no_globals("vnet.tc") end)

  it("sets tbf, reads it back as tc shows it, and changes it in place", sandboxed(function()
    assert(veth.create("t0", "t1"))
    assert.is_true(tc.tbf("t0", { rate = "10mbit", burst = "32kb", latency = "40ms" }))
    local q = root_of("t0")
    assert.are.equal("tbf", q.kind)
    assert.are.equal(1250000, q.options.rate)
    assert.is_true(math.abs(q.options.burst - 32768) <= 8) -- kept in ticks by the kernel
    local mine = tc.list("t0")[1]
    assert.are.same({ "tbf", 10000000, q.options.burst, true, "t0", "root" },
      { mine.kind, mine.rate, mine.burst, mine.root, mine.dev, mine.parent })
    assert.are.equal(q.handle, mine.handle)
    -- the same settings again, then a new rate: one qdisc, same handle
    assert.is_true(tc.tbf("t0", { rate = "10mbit", burst = "32kb", latency = "40ms" }))
    assert.is_true(tc.tbf("t0", { rate = "20mbit", burst = "32kb" }))
    local q2 = root_of("t0")
    assert.are.same({ q.handle, 2500000 }, { q2.handle, q2.options.rate })
    assert.are.equal(1, #tcj("qdisc show dev t0"))
  end))

  it("sets an htb class, read back as tc shows it", sandboxed(function()
    assert(veth.create("h0", "h1"))
    assert.is_true(tc.tbf("h0", { rate = "1mbit" })) -- replaced by htb below
    assert.is_true(tc.htb("h0", { rate = "100mbit", ceil = "200mbit", prio = 2 }))
    local q = root_of("h0")
    assert.are.same({ "htb", "1:", "0x1" }, { q.kind, q.handle, q.options.default })
    local out = H.sh("tc class show dev h0")
    assert.matches("class htb 1:1 root prio 2 rate 100Mbit ceil 200Mbit", out)
    local c = tc.classes("h0")[1]
    assert.are.same({ "1:1", 100000000, 200000000, 2 }, { c.classid, c.rate, c.ceil, c.prio })
    assert.is_true(tc.htb("h0", { rate = "50mbit" }))
    assert.matches("rate 50Mbit ceil 50Mbit", H.sh("tc class show dev h0"))
  end))

  it("redirects ingress to an ifb, seen by tc and in the ifb's counters", sandboxed(function(ns)
    local peer <close> = assert(netns.create())
    local a = assert(veth.create("r0", "r1", { peer_netns = peer }))
    assert(a:set { up = true })
    assert(a:addr_add("10.77.0.1/24"))
    peer:run(function()
      local b = assert(vnet.link.get("r1"))
      assert(b:set { up = true })
      assert(b:addr_add("10.77.0.2/24"))
    end)
    assert(vnet.ifb.create { name = "ifb7", up = true })
    assert.is_true(tc.redirect("r0", "ifb7"))
    assert.is_true(tc.redirect("r0", "ifb7")) -- already there: nothing added
    local fs = {}
    for _, f in ipairs(tcj("filter show dev r0 ingress")) do
      if f.options and f.options.actions then fs[#fs + 1] = f.options.actions[1] end
    end
    assert.are.equal(1, #fs)
    assert.are.same({ "mirred", "redirect", "ifb7" }, { fs[1].kind, fs[1].mirred_action, fs[1].to_dev })
    local mine = tc.filters("r0")
    assert.are.same({ 1, "redirect", vnet.link.index("ifb7") }, { #mine, mine[1].action, mine[1].to })
    local function ifb_rx()
      local l = H.ip("-s link show dev ifb7")[1]
      return l.stats64.rx.packets
    end
    local rx0 = ifb_rx()
    assert.is_true(H.ping(peer, "10.77.0.1", 3))
    assert.is_true(ifb_rx() - rx0 >= 3, "the pings did not pass through ifb7")
    assert.is_true(tc.clear("r0"))
    assert.are.equal(0, #tcj("filter show dev r0 ingress"))
    for _, q in ipairs(tcj("qdisc show dev r0")) do assert.are_not.equal("ingress", q.kind) end
    assert.is_true(tc.clear("r0")) -- nothing there is fine
  end))

  it("sets netem, read back as tc shows it, and changes it in place", sandboxed(function()
    need_qdisc("netem")
    local peer <close> = linked_peer()
    assert.is_true(tc.netem("n0", { delay = "50ms", jitter = 0, loss = 0.5, duplicate = 0.25,
      corrupt = 0.1, limit = 2000, rate = "100mbit" }))
    local q = root_of("n0")
    assert.are.equal("netem", q.kind)
    assert.are.equal(2000, q.options.limit)
    assert.are.equal(0.05, q.options.delay.delay)
    assert.is_true(math.abs(q.options["loss-random"].loss - 0.005) < 1e-6)
    local mine = tc.list("n0")[1]
    assert.are.same({ 50, 0.5, 0.25, 0.1, 2000, 100000000 },
      { mine.delay, mine.loss, mine.duplicate, mine.corrupt, mine.limit, mine.rate })
    assert.is_true(tc.netem("n0", { delay = 50 })) -- loss and the rest go back to 0
    local q2 = root_of("n0")
    assert.are.same({ 0.05, q.handle }, { q2.options.delay.delay, q2.handle })
    assert.is_nil(q2.options["loss-random"])
  end))

  it("holds a netem delay to 5%, one way and both ways, as ping sees it", sandboxed(function()
    need_qdisc("netem")
    local peer <close> = linked_peer()
    local base = { H.ping_rtt(peer, "10.78.0.1", 10) }
    print(string.format("unshaped: RTT min/avg/max %.2f/%.2f/%.2f ms", table.unpack(base)))
    assert.is_true(tc.netem("n0", { delay = 50 }))
    H.assert_delay(peer, "10.78.0.1", 50)                 -- one way
    peer:run(function() assert.is_true(tc.netem("n1", { delay = 50 })) end)
    H.assert_delay(peer, "10.78.0.1", 100)                -- both ways
  end))

  it("lists and removes, with the kernel's reason when it refuses", sandboxed(function()
    assert(veth.create("l0", "l1"))
    assert.is_true(tc.tbf("l0", { rate = "1mbit" }))
    assert.is_true(tc.ingress("l0"))
    local kinds = {}
    for _, q in ipairs(tc.list("l0")) do kinds[#kinds + 1] = q.kind .. "@" .. q.parent end
    table.sort(kinds)
    assert.are.same({ "ingress@ingress", "tbf@root" }, kinds)
    assert.is_true(tc.remove("l0", "ingress"))
    assert.is_true(tc.remove("l0"))
    for _, q in ipairs(tcj("qdisc show dev l0")) do assert.are_not.equal("tbf", q.kind) end
    local ok, err, eno = tc.remove("l0")
    assert.is_nil(ok)
    assert.are.equal(2, eno)
    assert.are.equal("tc.remove l0: No such file or directory (Cannot delete qdisc with handle of zero)", err)
    ok, err, eno = tc.tbf("nosuch0", { rate = "1mbit" })
    assert.are.same({ "tc.tbf nosuch0: No such device", 19 }, { err, eno })
  end))

  it("raises on misuse, naming the option, at the caller's line", function()
    local cases = {
      { function() tc.netem("x", { dealy = 5 }) end, "tc.netem: unknown option 'dealy' %(known: corrupt," },
      { function() tc.netem("x", { delay = "5 parsecs" }) end, "tc.netem: option 'delay': '5 parsecs' is not a time %(50, \"50ms\", \"1s\"%)" },
      { function() tc.netem("x", { loss = 150 }) end, "tc.netem: option 'loss': 150 is not a percentage from 0 to 100" },
      { function() tc.netem("x", { delay = 0 / 0 }) end, "tc.netem: option 'delay': .*nan is not a time" },
      { function() tc.tbf("x", { burst = 5 }) end, "tc.tbf: option 'rate' is required" },
      { function() tc.tbf("x", { rate = "fast" }) end, "tc.tbf: option 'rate': 'fast' is not a rate" },
      { function() tc.netem("x", { parent = "1:2:3" }) end, "tc.netem: option 'parent': '1:2:3' is not a tc handle" },
      { function() tc.netem({}, {}) end, "tc.netem: expected a device name, ifindex or link object %(got table%)" },
      { function() tc.redirect("x", "y", { mirrored = true }) end, "tc.redirect: unknown option 'mirrored'" },
    }
    for _, c in ipairs(cases) do
      local ok, err = pcall(c[1])
      assert.is_false(ok)
      local line = debug.getinfo(c[1], "S").linedefined
      assert.matches("^spec/tc_spec%.lua:" .. line .. ": " .. c[2], err)
    end
  end)
end)
