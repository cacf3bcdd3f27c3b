-- vnet.bridge: options read back and changed, ports and their options,
-- frames forwarded between veth ports, and nothing left half-made.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local bridge, veth, netns = vnet.bridge, vnet.veth, vnet.netns

describe("vnet.bridge", function()
  H.keeps_host_state(setup, teardown)

  it("creates one with options, read back and changed", sandboxed(function()
    local br = assert(bridge.create { name = "br0", stp = true, ageing_time = 1000,
      priority = 4096, forward_delay = 400 })
    local l = H.iplink("br0")
    local d = l.linkinfo.info_data
    assert.are.equal("bridge", l.linkinfo.info_kind)
    assert.are.same({ 1, 1000, 4096, 400 }, { d.stp_state, d.ageing_time, d.priority, d.forward_delay })
    assert.are.same({ true, 1000, 4096, 400 }, { br.stp, br.ageing_time, br.priority, br.forward_delay })
    assert.is_true(br:set { stp = false, priority = 8192 })
    d = H.iplink("br0").linkinfo.info_data
    assert.are.same({ 0, 8192 }, { d.stp_state, d.priority })
    assert.are.same({ false, 8192 }, { br.stp, br.priority })
  end))

  it("filters VLANs when asked", sandboxed(function()
    local br, err, eno = bridge.create { name = "br0", vlan_filtering = true, vlan_protocol = "802.1ad" }
    if eno == 95 then
      -- issue 9: the bare "Operation not supported" names the options now
      assert.are.equal("bridge.create br0: Operation not supported (options 'vlan_filtering', " ..
        "'vlan_protocol': this kernel's bridge has no VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING))", err)
      local b = assert(bridge.create { name = "br1" })
      assert.are.same({ nil, "link.set br1: Operation not supported (option 'vlan_filtering': " ..
        "this kernel's bridge has no VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING))", 95 },
        { b:set { vlan_filtering = true } })
      H.skip("this kernel's bridge has no VLAN filtering")
    end
    assert(br, err)
    local d = H.iplink("br0").linkinfo.info_data
    assert.are.same({ 1, "802.1ad" }, { d.vlan_filtering, d.vlan_protocol })
    assert.are.same({ true, "802.1ad" }, { br.vlan_filtering, br.vlan_protocol })
    assert.is_true(br:set { vlan_filtering = false })
    assert.are.equal(0, H.iplink("br0").linkinfo.info_data.vlan_filtering)
  end))

  it("takes ports, lists them, sets their options and lets them go", sandboxed(function()
    local a = assert(veth.create("pa0", "pa1"))
    assert(veth.create("pb0", "pb1"))
    local br = assert(bridge.create { name = "br0", ports = { a, "pb0" } })
    assert.are.equal("br0", H.iplink("pa0").master)
    assert.are.equal("br0", H.iplink("pb0").master)
    assert.are.equal(br.ifindex, a.master) -- the object was read back
    local names = {}
    for _, p in ipairs(assert(br:ports())) do names[#names + 1] = p.name end
    table.sort(names)
    assert.are.same({ "pa0", "pb0" }, names)
    assert.is_true(bridge.port(a, { hairpin = true, learning = false, cost = 7 }))
    local s = H.iplink("pa0").linkinfo.info_slave_data
    assert.are.same({ true, false, 7 }, { s.hairpin, s.learning, s.cost })
    assert.are.same({ true, false, 7 }, { a.port.hairpin, a.port.learning, a.port.cost })
    assert.are.equal("bridge", a.slave_kind)
    assert.is_true(br:remove_port("pb0"))
    assert.is_nil(H.iplink("pb0").master)
    assert.is_true(br:add_port("pb0", { flood = false }))
    assert.is_false(H.iplink("pb0").linkinfo.info_slave_data.flood)
  end))

  it("forwards frames between its veth ports", sandboxed(function()
    local n1 <close> = assert(netns.create())
    local n2 <close> = assert(netns.create())
    local p1, h1 = assert(veth.create("port1", "host1", { peer_netns = n1, up = true }))
    local p2, h2 = assert(veth.create("port2", "host2", { peer_netns = n2, up = true }))
    assert(bridge.create { name = "br0", up = true, ports = { p1, p2 } })
    assert(h1:addr_add("10.6.0.1/24")); assert(h1:set { up = true })
    assert(h2:addr_add("10.6.0.2/24")); assert(h2:set { up = true })
    local ok, out = H.ping(n1, "10.6.0.2", 2)
    assert.is_true(ok, out)
    -- and it learnt where each host is
    local fdb = H.sh("bridge -j fdb show br br0")
    assert.matches(h1.address, fdb, 1, true)
    assert.matches(h2.address, fdb, 1, true)
  end))

  it("gives a port VLANs, reads them back, sets them exactly and deletes them", sandboxed(function()
    H.need_bridge_vlans()
    assert(veth.create("pa0", "pa1"))
    local br = assert(bridge.create { name = "br0", vlan_filtering = true, ports = { "pa0" } })
    assert.are.same({ { vid = 1, pvid = true, untagged = true } }, assert(bridge.vlans("pa0")))
    assert.is_true(bridge.vlan_add("pa0", { vid = 10, pvid = true, untagged = true }))
    assert.is_true(bridge.vlan_add("pa0", { vid = 20 }))
    assert.are.same({ [1] = "U", [10] = "P U", [20] = "" }, H.bridge_vlans().pa0)
    assert.are.same({ { vid = 1, pvid = false, untagged = true }, { vid = 10, pvid = true, untagged = true },
      { vid = 20, pvid = false, untagged = false } }, assert(bridge.vlans("pa0")))
    assert.is_true(bridge.vlan_del("pa0", 1))
    assert.are.same({ [10] = "P U", [20] = "" }, H.bridge_vlans().pa0)
    -- exactly these: 10 loses its flags, 30 comes as the pvid, 20 goes
    assert.are.equal(3, assert(bridge.set_vlans("pa0", { { vid = 10 }, { vid = 30, pvid = true } })))
    assert.are.same({ [10] = "", [30] = "P" }, H.bridge_vlans().pa0)
    assert.are.equal(0, assert(bridge.set_vlans("pa0", { { vid = 10 }, { vid = 30, pvid = true } })))
    -- the bridge's own VLANs ("self"), and a link object
    assert.is_true(bridge.vlan_add(br, { vid = 30 }))
    assert.are.equal("", H.bridge_vlans().br0[30])
    local ok, err, eno = bridge.vlan_del("pa0", 99)
    assert.is_nil(ok)
    assert.are.equal(2, eno)
    assert.matches("^bridge.vlan_del pa0: No such file or directory", err)
  end))

  it("undoes its VLAN changes when the session ends", sandboxed(function()
    H.need_bridge_vlans()
    assert(veth.create("pa0", "pa1", { persist = true }))
    assert(bridge.create { name = "br0", vlan_filtering = true, ports = { "pa0" }, persist = true })
    local script = H.tmpscript([[
      assert(vnet.bridge.vlan_add("pa0", { vid = 10, pvid = true }))
      assert(vnet.bridge.vlan_del("pa0", 1))
      print(#vnet.session.list())
    ]])
    local out = H.sh(H.vnet .. " " .. script)
    os.remove(script)
    assert.matches("^3\n", out) -- vid 10 made; vid 1 back as the pvid; vid 1 back at all
    assert.are.same({ [1] = "P U" }, H.bridge_vlans().pa0)
  end))

  it("has the guardian put its VLAN changes back after a SIGKILL, from the same records", sandboxed(function()
    H.need_bridge_vlans()
    assert(veth.create("pa0", "pa1", { persist = true }))
    assert(bridge.create { name = "br0", vlan_filtering = true, ports = { "pa0" }, persist = true })
    local script = H.tmpscript([[
      assert(vnet.bridge.vlan_add("pa0", { vid = 10, pvid = true }))
      assert(vnet.bridge.vlan_del("pa0", 1))
      assert(vnet.bridge.vlan_add("br0", { vid = 30 }))
      print(#vnet.session.list())
      io.stdout:flush()
      os.execute("kill -KILL " .. io.open("/proc/self/stat"):read("n"))
    ]])
    local out = H.sh(H.vnet .. " " .. script)
    os.remove(script)
    assert.matches("^4\n", out)
    local v
    H.eventually(function() -- the guardian's work
      v = H.bridge_vlans()
      return v.pa0 and v.pa0[1] == "P U" and not v.pa0[10] and not (v.br0 or {})[30]
    end)
    assert.are.same({ [1] = "P U" }, v.pa0)
    assert.is_nil((v.br0 or {})[30])
  end))

  describe("bad input", function()
    it("deletes the bridge again when a port cannot be added", sandboxed(function()
      assert(veth.create("pa0", "pa1"))
      assert.are.same({ nil, "bridge.create br0: port nosuch0: No such device", 19 },
        { bridge.create { name = "br0", ports = { "pa0", "nosuch0" } } })
      assert.is_nil(H.iplink("br0"))
      assert.is_nil(H.iplink("pa0").master)
      assert.has_error(function() bridge.create { name = "br0", stp = "on" } end,
        "bridge.create: option 'stp' must be boolean (got string)")
      assert.has_error(function() bridge.port("pa0", { hairpinn = true }) end,
        "bridge.port: unknown option 'hairpinn' (known: bcast_flood, cost, fast_leave, flood, " ..
        "guard, hairpin, isolated, learning, mcast_flood, neigh_suppress, priority, proxy_arp, " ..
        "root_block, state)")
      assert.has_error(function() bridge.port("pa0", { state = "open" }) end,
        "bridge.port pa0: option 'state' must be one of blocking, disabled, forwarding, learning, " ..
        "listening (got 'open')")
      local ok, err, eno = bridge.port("pa0", { hairpin = true }) -- not a port
      assert.is_nil(ok)
      assert.are.equal(95, eno)
      assert.matches("^bridge.port pa0: Operation not supported", err)
      assert.is_nil(H.iplink("br0"))
    end))

    it("refuses a VLAN out of 1..4094 or malformed, at the caller's line", sandboxed(function()
      local line = debug.getinfo(1, "l").currentline
      local cases = {
        { function() bridge.vlan_add("pa0", { vid = 5000 }) end, "bridge.vlan_add: vid 5000 is out of range 1..4094" },
        { function() bridge.vlan_add("pa0", { vid = 0 }) end, "bridge.vlan_add: vid 0 is out of range 1..4094" },
        { function() bridge.vlan_add("pa0", { vid = 1.5 }) end, "bridge.vlan_add: option 'vid' must be integer (got 1.5)" },
        { function() bridge.vlan_add("pa0", { pvid = true }) end, "bridge.vlan_add: the VLAN needs a vid (1..4094)" },
        { function() bridge.vlan_add("pa0", { vid = 3, tagged = true }) end, "bridge.vlan_add: unknown option 'tagged' (known: pvid, untagged, vid)" },
        { function() bridge.vlan_add("pa0", 10) end, "bridge.vlan_add: the VLAN must be a table like { vid = 10 } (got number)" },
        { function() bridge.vlan_del("pa0", 4095) end, "bridge.vlan_del: vid 4095 is out of range 1..4094" },
        { function() bridge.vlan_del("pa0") end, "bridge.vlan_del: vid must be an integer (got nil)" },
        { function() bridge.set_vlans("pa0", { { vid = 2, pvid = true }, { vid = 3, pvid = true } }) end, "bridge.set_vlans: a port has one pvid (2 listed)" },
        { function() bridge.set_vlans("pa0", { { vid = 2 }, { vid = 2 } }) end, "bridge.set_vlans: VLAN 2 is listed twice" },
        { function() bridge.set_vlans("pa0", { { vid = 2 }, { vid = -2 } }) end, "bridge.set_vlans: vid -2 is out of range 1..4094" },
        { function() bridge.set_vlans("pa0", 10) end, "bridge.set_vlans: expected a list of VLANs (got number)" },
      }
      for i, c in ipairs(cases) do
        local ok, err = pcall(c[1])
        assert.is_false(ok)
        assert.are.equal("spec/bridge_spec.lua:" .. (line + 1 + i) .. ": " .. c[2], err)
      end
      assert(veth.create("pa0", "pa1"))
      assert.are.same({ nil, "bridge.vlans pa0: not a bridge or a bridge port", 22 }, { bridge.vlans("pa0") })
      assert.are.same({ nil, "bridge.vlans nosuch0: No such device", 19 }, { bridge.vlans("nosuch0") })
    end))
  end)
end)
