-- vnet.veth: pairs, their peers across namespaces, traffic, bad input.
-- iproute2 is the witness; every test runs in a namespace of its own.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local veth, link, netns = vnet.veth, vnet.link, vnet.netns

describe("vnet.veth", function()
  H.keeps_host_state(setup, teardown)

  it("makes a pair as `ip link add vethA type veth peer name vethB` does", sandboxed(function()
    local a, b = assert(veth.create("vethA", "vethB"))
    assert.are.equal("vethA", a.name)
    assert.are.equal("vethB", b.name)
    assert.are.equal("veth", a.kind)
    local ia, ib = assert(H.iplink("vethA")), assert(H.iplink("vethB"))
    assert.are.same({ "veth", "veth" }, { ia.linkinfo.info_kind, ib.linkinfo.info_kind })
    assert.are.equal("vethB", ia.link) -- shown as vethA@vethB
    assert.are.equal("vethA", ib.link)
    -- the seed: the two ids differ by one, and each end names the other's
    assert.are.equal(1, math.abs(a.ifindex - b.ifindex))
    assert.are.equal(b.ifindex, a.parent)
    assert.are.equal(a.ifindex, b.parent)
    assert.are.equal("vethB", assert(a:peer()).name)
    assert.are.equal("vethA", assert(b:peer()).name)
    assert.are.equal(ia.address, a.address)
    -- one `ip -br link` line (vnet.show; show_spec compares it with iproute2's)
    assert.matches("^vethA@vethB +DOWN +%x%x:%x%x:%x%x:%x%x:%x%x:%x%x <BROADCAST,MULTICAST,M%-DOWN>$", tostring(a))
  end))

  it("takes both ends away with either", sandboxed(function()
    local a = assert(veth.create("d0", "d1"))
    assert.is_true(a:delete())
    assert.is_nil(H.iplink("d0"))
    assert.is_nil(H.iplink("d1"))
  end))

  it("sets the peer's name, address and MTU and brings ends up at creation", sandboxed(function()
    local a, b = assert(veth.create { name = "o0", peer = "o1", mtu = 1400,
      address = "02:00:00:00:00:0a", peer_address = "02:00:00:00:00:0b",
      peer_mtu = 1300, up = true, peer_up = true })
    local ia, ib = H.iplink("o0"), H.iplink("o1")
    assert.are.same({ 1400, "02:00:00:00:00:0a" }, { ia.mtu, ia.address })
    assert.are.same({ 1300, "02:00:00:00:00:0b" }, { ib.mtu, ib.address })
    assert.is_true(H.has_flag(ia, "UP") and H.has_flag(ib, "UP"))
    assert.are.same({ 1400, 1300, true }, { a.mtu, b.mtu, b.up })
  end))

  it("puts the peer straight into another namespace and finds it there", sandboxed(function()
    local ns <close> = assert(netns.create())
    local a, b = assert(veth.create("in0", "out0", { peer_netns = ns }))
    assert.is_nil(H.iplink("out0"))
    local ib = assert(H.iplink_in(ns, "out0"))
    assert.are.equal("veth", ib.linkinfo.info_kind)
    assert.are.equal(ns, b.netns)
    assert.is_number(a.netns_id) -- IFLA_LINK_NETNSID: the peer is elsewhere
    local p = assert(a:peer())
    assert.are.equal("out0", p.name)
    assert.are.equal(ns:id(), p.netns:id())
    assert.are.equal(ib.ifindex, p.ifindex)
    -- the object works from here, acting in ns
    assert.is_true(p:set { mtu = 1280 })
    assert.are.equal(1280, H.iplink_in(ns, "out0").mtu)
    assert.are.equal(1280, p.mtu)
    -- and back: the far end's peer is the near end
    local back = assert(p:peer())
    assert.are.equal("in0", back.name)
  end))

  it("carries ping between two namespaces", sandboxed(function()
    local n1 <close> = assert(netns.create())
    local n2 <close> = assert(netns.create())
    local a, b = assert(veth.create("va", "vb", { netns = n1, peer_netns = n2 }))
    assert.are.equal(n1, a.netns)
    assert.is_nil(H.iplink("va")) -- neither end is here
    assert(a:addr_add("10.1.0.1/24")); assert(a:set { up = true })
    assert(b:addr_add("10.1.0.2/24")); assert(b:set { up = true })
    local ok, out = H.ping(n1, "10.1.0.2", 2)
    assert.is_true(ok, out)
    ok, out = H.ping(n2, "10.1.0.1")
    assert.is_true(ok, out)
    local st = assert(a:stats())
    assert.is_true(st.tx_packets >= 2 and st.rx_packets >= 2)
  end))

  it("moves an end into a namespace with :set{netns=}", sandboxed(function()
    local ns <close> = assert(netns.create())
    local a, b = assert(veth.create("m0", "m1"))
    assert.is_true(b:set { netns = ns })
    assert.is_nil(H.iplink("m1"))
    assert.is_not_nil(H.iplink_in(ns, "m1"))
    assert.are.equal(ns, b.netns)
    assert.is_true(b:set { name = "moved0", up = true })
    assert.are.equal("moved0", b.name)
    assert.is_not_nil(H.iplink_in(ns, "moved0"))
    assert.are.equal("moved0", assert(a:refresh()):peer().name)
  end))

  describe("bad input", function()
    it("rejects bad names and unknown options, leaving nothing", sandboxed(function()
      assert.has_error(function() veth.create("abcdefghijklmnop", "x") end,
        "veth.create: name 'abcdefghijklmnop' is 16 bytes; interface names are 1 to 15 bytes")
      assert.has_error(function() veth.create("x", "a/b") end,
        "veth.create: name 'a/b' is not a valid interface name (no '/', ':' or white space, not '.' or '..')")
      assert.has_error(function() veth.create { name = "x", peeer = "y" } end,
        "veth.create: unknown option 'peeer' (known: address, kind, link, master, mtu, name, " ..
        "netns, numrxqueues, numtxqueues, peer, peer_address, peer_mtu, peer_netns, peer_up, " ..
        "persist, txqueuelen, up)")
      assert.has_error(function() veth.create("x", "y", { peer_address = "zz" }) end,
        "veth.create x: option 'peer_address': 'zz' is not a MAC address (aa:bb:cc:dd:ee:ff)")
      assert.has_error(function() veth.create("x", "y", { mtu = 10 }) end,
        "veth.create x: option 'mtu' 10 out of range (68 to 65535)")
      assert.has_error(function() veth.create("x", "y", 5) end,
        "veth.create: options must be a table (got number)")
      assert.are.equal(1, #H.ip("link show")) -- only lo
    end))

    it("says what the kernel says, and leaves the first pair alone", sandboxed(function()
      assert(veth.create("dup0", "dup1"))
      assert.are.same({ nil, "veth.create dup0: File exists", 17 },
        { veth.create("dup0", "other0") })
      assert.are.same({ nil, "veth.create same0: File exists", 17 },
        { veth.create("same0", "same0") })
      assert.is_nil(H.iplink("other0"))
      assert.is_nil(H.iplink("same0"))
      assert.are.equal("dup1", H.iplink("dup0").link)
      local ok, err, eno = veth.create("p0", "p1", { peer_netns = "vnet-no-such-ns" })
      assert.is_nil(ok)
      assert.are.equal(2, eno)
      assert.are.equal("netns.open vnet-no-such-ns: No such file or directory (no such " ..
        "namespace: see `ip netns list` or vnet.netns.list())", err)
      assert.is_nil(H.iplink("p0"))
    end))
  end)
end)
