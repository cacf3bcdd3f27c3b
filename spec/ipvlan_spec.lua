-- vnet.ipvlan and vnet.ipvtap: modes and flags read back, traffic between
-- namespaces in l2 and l3 mode, an ipvtap's frames read from /dev/tapN.
-- Pending, with the reason, on a kernel without ipvlan/ipvtap; the
-- full-kernel lane runs them.
--
-- The rig is macvlan_spec's: parent "up0" here, its veth peer "sw0" in
-- namespace P, each ipvlan made straight into a namespace of its own.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local veth, ipvlan, ipvtap, netns = vnet.veth, vnet.ipvlan, vnet.ipvtap, vnet.netns

local function rig(mode, flags)
  local r = { P = assert(netns.create()), n1 = assert(netns.create()), n2 = assert(netns.create()) }
  r.up0, r.sw0 = assert(veth.create("up0", "sw0", { peer_netns = r.P, up = true, peer_up = true }))
  r.i1 = assert(ipvlan.create { name = "iv1", link = r.up0, mode = mode, flags = flags, netns = r.n1, up = true })
  r.i2 = assert(ipvlan.create { name = "iv2", link = "up0", mode = mode, flags = flags, netns = r.n2, up = true })
  assert(r.i1:addr_add("10.4.0.1/24"))
  assert(r.i2:addr_add("10.4.0.2/24"))
  return setmetatable(r, { __close = function() r.n1:close(); r.n2:close(); r.P:close() end })
end

describe("vnet.ipvlan", function()
  H.keeps_host_state(setup, teardown)

  it("creates one as `ip link add link eth0 iv0 type ipvlan mode l3`, sharing the parent's MAC",
    sandboxed(function()
      H.need_kind("ipvlan")
      local p = assert(veth.create("eth0", "eth1"))
      local iv = assert(ipvlan.create { name = "iv0", link = "eth0", mode = "l3" })
      local l = assert(H.iplink("iv0"))
      assert.are.same({ "ipvlan", "l3", "eth0" }, { l.linkinfo.info_kind, l.linkinfo.info_data.mode, l.link })
      assert.are.same({ "ipvlan", "l3", "bridge", p.ifindex }, { iv.kind, iv.mode, iv.info.flags, iv.parent })
      assert.are.equal(p.address, iv.address) -- the seed: all share the parent's MAC
      assert.is_true(iv:delete())
      assert.is_nil(H.iplink("iv0"))
    end))

  it("reads mode and flags back and changes them afterwards", sandboxed(function()
    H.need_kind("ipvlan")
    assert(veth.create("p0", "p1"))
    local iv = assert(ipvlan.create { name = "iv0", link = "p0", mode = "l2", flags = "private" })
    local d = H.iplink("iv0").linkinfo.info_data
    assert.are.same({ "l2", true }, { d.mode, d.private })
    assert.are.same({ "l2", "private" }, { iv.mode, iv.info.flags })
    assert.is_true(iv:set { mode = "l3s", flags = "vepa" })
    d = H.iplink("iv0").linkinfo.info_data
    assert.are.same({ "l3s", true }, { d.mode, d.vepa })
    assert.are.same({ "l3s", "vepa" }, { iv.mode, iv.info.flags })
  end))

  it("in l2 mode: two ipvlans on one parent reach each other", sandboxed(function()
    H.need_kind("ipvlan")
    local r <close> = rig("l2")
    local ok, out = H.ping(r.n1, "10.4.0.2", 2)
    assert.is_true(ok, out)
  end))

  it("in l2 mode with flags private: they do not", sandboxed(function()
    H.need_kind("ipvlan")
    local r <close> = rig("l2", "private")
    assert.is_false((H.ping(r.n1, "10.4.0.2")))
  end))

  it("in l3 mode: they reach each other, routed, without ARP", sandboxed(function()
    H.need_kind("ipvlan")
    local r <close> = rig("l3")
    assert.is_true(H.has_flag(H.iplink_in(r.n1, "iv1"), "NOARP"))
    local ok, out = H.ping(r.n1, "10.4.0.2", 2)
    assert.is_true(ok, out)
  end))

  it("in l3 mode with flags private: they do not", sandboxed(function()
    H.need_kind("ipvlan")
    local r <close> = rig("l3", "private")
    assert.is_false((H.ping(r.n1, "10.4.0.2")))
  end))

  it("cannot share a parent with a macvlan, either way round", sandboxed(function()
    H.need_kind("ipvlan")
    assert(veth.create("p0", "p1"))
    assert(vnet.macvlan.create { name = "mv0", link = "p0" })
    local ok, err, eno = ipvlan.create { name = "iv0", link = "p0" }
    assert.is_nil(ok)
    assert.are.equal(16, eno)
    assert.matches("^ipvlan.create iv0: Device or resource busy %(.+%)$", err)
    assert.is_nil(H.iplink("iv0"))
    assert(ipvlan.create { name = "iv1", link = "p1" })
    ok, err, eno = vnet.macvlan.create { name = "mv1", link = "p1" }
    assert.is_nil(ok)
    assert.are.equal(16, eno)
    assert.matches("^macvlan.create mv1: Device or resource busy %(.+%)$", err)
    assert.is_nil(H.iplink("mv1"))
  end))

  describe("bad input", function()
    it("raises on misuse, naming the option", sandboxed(function()
      assert.has_error(function() ipvlan.create { name = "iv0", mode = "l2" } end,
        "ipvlan.create iv0: option 'link' is required (the parent device)")
      assert.has_error(function() ipvlan.create { name = "iv0", link = "lo", mode = "l4" } end,
        "ipvlan.create iv0: option 'mode' must be one of l2, l3, l3s (got 'l4')")
      assert.has_error(function() ipvlan.create { name = "iv0", link = "lo", flags = "public" } end,
        "ipvlan.create iv0: option 'flags' must be one of bridge, private, vepa (got 'public')")
      assert.are.equal(1, #H.ip("link show"))
    end))

    it("says when this kernel has no ipvlan", sandboxed(function()
      assert(veth.create("p0", "p1"))
      local ok, err, eno = ipvlan.create { name = "iv0", link = "p0", mode = "l3" }
      if H.kernel_has("ipvlan") then -- the full kernel: it simply works
        assert(ok, err)
        return
      end
      assert.are.same({ nil, "ipvlan.create iv0: this kernel has no 'ipvlan' support " ..
        "(Unknown device type)", 95 }, { ok, err, eno })
      assert.are.same({ nil, "link.create iv0: this kernel has no 'ipvlan' support " ..
        "(Unknown device type)", 95 }, { vnet.link.create { kind = "ipvlan", name = "iv0", link = "p0" } })
      assert.is_nil(H.iplink("iv0"))
    end))
  end)
end)

describe("vnet.ipvtap", function()
  it("creates one, read back as `ip -d link` shows it", sandboxed(function()
    H.need_kind("ipvtap")
    assert(veth.create("p0", "p1"))
    local t = assert(ipvtap.create { name = "ivt0", link = "p0", mode = "l2" })
    local l = H.iplink("ivt0")
    assert.are.same({ "ipvtap", "l2", "p0" }, { l.linkinfo.info_kind, l.linkinfo.info_data.mode, l.link })
    assert.are.same({ "ipvtap", "l2" }, { t.kind, t.mode })
  end))

  it("gives the packets for its address to /dev/tapN", sandboxed(function()
    H.need_kind("ipvtap")
    local P <close> = assert(netns.create())
    local up0, sw0 = assert(veth.create("up0", "sw0", { peer_netns = P, up = true, peer_up = true }))
    local t = assert(ipvtap.create { name = "ivt0", link = up0, mode = "l2", up = true })
    assert(t:addr_add("10.5.0.2/24")) -- ipvlan tells its links apart by address
    local dev <close> = assert(t:open())
    assert.are.equal(t.ifindex, dev.ifindex)
    assert(sw0:addr_add("10.5.0.1/24"))
    assert.are.same({ 0, "" }, { P:exec { "ip", "neigh", "replace", "10.5.0.2", "lladdr",
      up0.address, "dev", "sw0", "nud", "permanent" } })
    P:exec { "ping", "-c", "1", "-W", "0.3", "10.5.0.2" }
    local seen
    for _ = 1, 20 do
      local f = dev:read()
      if not f then break end
      if f:u16(12) == 0x0800 and f:u32(14 + 16) == 0x0a050002 then seen = true; break end
    end
    assert.is_true(seen, "no packet for 10.5.0.2 came out of /dev/tap" .. t.ifindex)
  end))
end)
