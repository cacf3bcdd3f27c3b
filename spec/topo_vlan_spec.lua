-- vnet.topo with VLANs (issue 14): a switch's port VLANs (vlan_filtering,
-- vlans, pvid, untagged) and a link end's 802.1Q interface (vlan = 10).
-- Checked whole before anything is built; diff and apply change only the
-- VLANs that differ; `bridge -j vlan show`, `ip -j -d link`, tcpdump and
-- ping as witnesses. This machine's kernel may lack bridge VLAN filtering
-- and 8021q: those specs are pending here and run in the kernel lane.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local topo = vnet.topo
local check = require "vnet._topocheck"
local live = require "vnet._topolive"

-- h1 and h2 on VLAN 10, h3 on VLAN 20, all untagged (access ports)
local function lan(extra)
  local function access(vid) return { node = "sw", vlans = { vid }, pvid = vid, untagged = { vid } } end
  local t = {
    name = "tvl",
    nodes = { sw = { kind = "switch", vlan_filtering = true }, h1 = {}, h2 = {}, h3 = {} },
    links = {
      { a = { node = "h1", addr = "10.0.10.1/24" }, b = access(10) },
      { a = { node = "h2", addr = "10.0.10.2/24" }, b = access(10) },
      { a = { node = "h3", addr = "10.0.10.3/24" }, b = access(20) },
    },
  }
  if extra then extra(t) end
  return t
end

-- What the kernel would show for D, built as described (vnet._topolive's
-- shape): every interface, address, route and sysctl as D has it, and
-- each listed port's VLANs.
local function live_of(D)
  local L, idx = {}, 0
  local byname = {}
  for _, nn in ipairs(D.order) do
    local N = D.nodes[nn]
    local S = { links = {}, byindex = {}, addrs = {}, routes = {}, tc = {}, sysctl = {}, redirect = {}, vlans = {} }
    for k, v in pairs(N.sysctl) do S.sysctl[k] = v end
    for dst, r in pairs(N.routes) do S.routes[dst] = { via = r.via, dev = r.dev, metric = r.metric } end
    for _, ifn in ipairs(N.iforder) do
      local I = N.ifaces[ifn]
      idx = idx + 1
      local l = { name = ifn, ifindex = idx, kind = I.kind, up = true, mtu = I.mtu or 1500, address = I.mac,
        info = I.kind == "bridge" and { vlan_filtering = I.vlan_filtering } or { id = I.create.id } }
      S.links[ifn], S.byindex[idx], byname[nn .. ":" .. ifn] = l, l, l
      S.addrs[ifn] = {}
      for _, a in ipairs(I.addrs) do S.addrs[ifn][a] = true end
      if I.vlans then
        S.vlans[ifn] = {}
        for _, v in ipairs(I.vlans) do S.vlans[ifn][v.vid] = { vid = v.vid, pvid = v.pvid, untagged = v.untagged } end
      end
    end
    L[nn] = S
  end
  for _, nn in ipairs(D.order) do -- masters, veth peers and vlan parents, by ifindex
    for ifn, I in pairs(D.nodes[nn].ifaces) do
      local l = byname[nn .. ":" .. ifn]
      if I.master then l.master = byname[nn .. ":" .. I.master].ifindex end
      if I.peer then l.parent = byname[I.peer.node .. ":" .. I.peer.name].ifindex end
      if I.kind == "vlan" then l.parent = byname[nn .. ":" .. I.create.link].ifindex end
    end
  end
  return L
end

local function texts(changes)
  local out = {}
  for i, c in ipairs(changes) do out[i] = c.text end
  return out
end

describe("vnet.topo VLANs", function()
  H.keeps_host_state(setup, teardown)

  it("refuses every bad VLAN field, naming the place, at the caller's line, building nothing", sandboxed(function()
    local cases = {
      { function(t) t.links[1].a.vlan = 5000 end, "links[1].a.vlan: 5000 is out of range 1..4094" },
      { function(t) t.links[2].a.vlan = 0 end, "links[2].a.vlan: 0 is out of range 1..4094" },
      { function(t) t.links[1].a.vlan = "10" end, "links[1].a.vlan: must be an integer VLAN id 1..4094 (got string)" },
      { function(t) t.links[1].b.vlan = 10 end,
        "links[1].b.vlan: 'sw' is a switch: give its port vlans, pvid and untagged instead" },
      { function(t) t.links[1].a.vlans = { 10 } end,
        "links[1].a.vlans: 'h1' is not a switch: a port's VLANs are a switch's (a host's end takes vlan = <id>)" },
      { function(t) t.nodes.sw.vlan_filtering = nil end,
        "links[1].b.vlans: switch 'sw' does not filter VLANs (set nodes.sw.vlan_filtering = true)" },
      { function(t) t.nodes.sw.vlan_filtering = "yes" end, "nodes.sw.vlan_filtering: must be true or false (got string)" },
      { function(t) t.nodes.h1.vlan_filtering = true end, "nodes.h1.vlan_filtering: only a switch has it" },
      { function(t) t.links[2].b.pvid = 20 end, "links[2].b.pvid: 20 is not one of the port's vlans (10)" },
      { function(t) t.links[2].b.pvid = 4095 end, "links[2].b.pvid: 4095 is out of range 1..4094" },
      { function(t) t.links[3].b.untagged = { 20, 30 } end, "links[3].b.untagged: 30 is not one of the port's vlans (20)" },
      { function(t) t.links[3].b.vlans = { 20, 20 } end, "links[3].b.vlans: VLAN 20 is listed twice" },
      { function(t) t.links[3].b.vlans = { 20, 4095 } end, "links[3].b.vlans[2]: 4095 is out of range 1..4094" },
      { function(t) t.links[3].b.vlans = {} end, "links[3].b.vlans: must be a VLAN id or a list of them, like {10, 20}" },
      { function(t) t.links[3].b.vlans = nil end,
        "links[3].b.pvid: needs vlans too: list the port's VLANs (vlans = {10, 20})" },
      { function(t) t.links[1].a.name, t.links[1].a.vlan = "h1-trunk-port", 100 end,
        "links[1].a.vlan: the VLAN interface 'h1-trunk-port.100' would be over 15 bytes; name the end shorter (name = \"...\")" },
      { function(t) t.links[1].a.vlna = 10 end,
        "links[1].a: unknown field 'vlna' (known: node, name, addr, mtu, mac, tc, vlan, vlans, pvid, untagged)" },
    }
    for _, c in ipairs(cases) do
      local line = debug.getinfo(1, "l").currentline + 1
      local ok, err = pcall(topo.apply, lan(c[1]))
      assert.is_false(ok)
      assert.are.equal("spec/topo_vlan_spec.lua:" .. line .. ": topo.apply: " .. c[2], err)
      assert.are.same({}, H.netns_names())
    end
    assert.is_true(topo.check(lan()))
    -- a tagged end on a host, and a port's vlans given as one id
    assert.is_true(topo.check(lan(function(t) t.links[1].a.vlan, t.links[1].b = 10, { node = "sw", vlans = 10 } end)))
  end))

  it("describes a tagged end as an 802.1Q interface carrying the end's addresses", function()
    local D = check.check(lan(function(t)
      t.links[1].a = { node = "h1", vlan = 10, addr = "10.0.10.1/24", mtu = 1400 }
      t.links[1].b = { node = "sw", vlans = { 10, 30 }, untagged = { 30 } }
      t.nodes.h1.routes = { default = { via = "10.0.10.254", dev = "h1-eth0.10" } }
    end))
    local h1 = D.nodes.h1
    assert.are.same({ "h1-eth0", "h1-eth0.10" }, h1.iforder)
    assert.are.same({ {}, 1400, "veth" }, { h1.ifaces["h1-eth0"].addrs, h1.ifaces["h1-eth0"].mtu, h1.ifaces["h1-eth0"].kind })
    local v = h1.ifaces["h1-eth0.10"]
    assert.are.same({ "vlan", { link = "h1-eth0", id = 10 }, { "10.0.10.1/24" } }, { v.kind, v.create, v.addrs })
    assert.are.same({ { vid = 10, pvid = false, untagged = false }, { vid = 30, pvid = false, untagged = true } },
      D.nodes.sw.ifaces["sw-eth0"].vlans)
    assert.are.same({ true, { vlan_filtering = true } }, { D.nodes.sw.ifaces.sw.vlan_filtering, D.nodes.sw.ifaces.sw.create })
  end)

  it("diffs only the VLANs that differ from what is live", function()
    local t = lan(function(d) d.links[1].a.vlan = 10; d.links[1].b = { node = "sw", vlans = { 10 } } end)
    local D = check.check(t)
    assert.are.same({}, live.diff(D, live_of(D)))
    -- a port that has the bridge's default VLAN 1 and not its own
    local L = live_of(D)
    L.sw.vlans["sw-eth1"] = { [1] = { vid = 1, pvid = true, untagged = true } }
    assert.are.same({ "~ vlan sw:sw-eth1 +10 pvid untagged, -1" }, texts(live.diff(D, L)))
    -- flags that differ, one VLAN too many
    L = live_of(D)
    L.sw.vlans["sw-eth2"] = { [20] = { vid = 20, pvid = true, untagged = false }, [5] = { vid = 5, pvid = false, untagged = false } }
    local changes = live.diff(D, L)
    assert.are.same({ "~ vlan sw:sw-eth2 +20 pvid untagged, -5" }, texts(changes))
    assert.are.same({ "vlan", "sw-eth2", D.nodes.sw.ifaces["sw-eth2"].vlans }, { changes[1].what, changes[1].name, changes[1].to })
    -- a port that left the bridge: back under it, and its VLANs set whole
    L = live_of(D)
    L.sw.links["sw-eth0"].master = nil
    assert.are.same({ "~ link sw:sw-eth0 master nil -> sw", "~ vlan sw:sw-eth0 10" }, texts(live.diff(D, L)))
    -- the bridge stopped filtering
    L = live_of(D)
    L.sw.links.sw.info.vlan_filtering = false
    assert.are.same({ "~ link sw:sw vlan_filtering false -> true" }, texts(live.diff(D, L)))
    -- a kernel that does not report vlan_filtering, for a switch that does not ask for it
    local D2 = check.check({ name = "tvn", nodes = { sw = { kind = "switch" }, h1 = {} }, links = { { a = "h1", b = "sw" } } })
    local L2 = live_of(D2)
    L2.sw.links.sw.info.vlan_filtering = nil
    L2.sw.vlans["sw-eth0"] = { [1] = { vid = 1, pvid = true, untagged = true } } -- not listed: not compared
    assert.are.same({}, live.diff(D2, L2))
    -- the tagged end's interface on another VLAN id: made again, with its address
    L = live_of(D)
    L.h1.links["h1-eth0.10"].info.id = 11
    assert.are.same({ "- link h1:h1-eth0.10 (VLAN or parent changed)", "+ link h1:h1-eth0.10 vlan on h1-eth0",
      "+ addr h1:h1-eth0.10 10.0.10.1/24" }, texts(live.diff(D, L)))
  end)

  it("refuses vlan_filtering on a kernel whose bridge lacks it, building nothing", sandboxed(function()
    if H.sh("ip link add vnetprobe9 type bridge vlan_filtering 1 && ip link del vnetprobe9 && echo yes"):find("yes") then
      H.skip("this kernel's bridge filters VLANs: nothing to refuse")
    end
    assert.are.same({ nil, "topo.apply tvl: nodes.sw.vlan_filtering: this kernel's bridge has no VLAN filtering " ..
      "(CONFIG_BRIDGE_VLAN_FILTERING)", 95 }, { topo.apply(lan()) })
    assert.are.same({}, H.netns_names())
  end))

  it("builds access ports, keeps VLANs apart, applies twice without change and moves a port alone", sandboxed(function()
    H.need_bridge_vlans()
    local net <close> = assert(topo.apply(lan()))
    local v = H.bridge_vlans(net.sw.netns)
    assert.are.same({ { [10] = "P U" }, { [10] = "P U" }, { [20] = "P U" } }, { v["sw-eth0"], v["sw-eth1"], v["sw-eth2"] })
    assert.are.equal(1, H.iplinks("tvl-sw").sw.linkinfo.info_data.vlan_filtering)
    assert.is_true((net.h1:ping(net.h2)))
    assert.is_false((net.h1:ping(net.h3)))
    assert.matches("sw%-eth2 veth %-> h3:h3%-eth0 up mtu 1500 port of sw vlans 20 pvid untagged", net:summary())
    local idx = {}
    for name, l in pairs(H.iplinks("tvl-sw")) do idx[name] = l.ifindex end
    assert.are.same({}, (topo.diff(lan())))
    assert.are.same({}, assert(net:apply(lan())))
    -- h3 moves to VLAN 10: that port's VLANs change, nothing else
    local moved = lan(function(t) t.links[3].b = { node = "sw", vlans = { 10 }, pvid = 10, untagged = { 10 } } end)
    local _, text = net:diff(moved)
    assert.are.equal("~ vlan sw:sw-eth2 +10 pvid untagged, -20", text)
    local mon = H.spawn("timeout 3 ip -n tvl-sw monitor link")
    H.sh("sleep 0.5")
    assert.are.equal(1, #assert(net:apply(moved)))
    local events = mon:wait()
    for line in events:gmatch("[^\n]+") do
      if line:find("^%d+: ") then assert.is_truthy(line:find("sw-eth2", 1, true) or line:find("^%d+: sw:"), line) end
    end
    assert.are.same({ [10] = "P U" }, H.bridge_vlans(net.sw.netns)["sw-eth2"])
    for name, l in pairs(H.iplinks("tvl-sw")) do assert.are.equal(idx[name], l.ifindex, name .. " was made again") end
    assert.is_true((net.h1:ping(net.h3)))
    assert.are.same({}, (net:diff(moved)))
  end))

  it("carries a tagged end over a trunk port to an access port", sandboxed(function()
    H.need_kind("vlan")
    H.need_bridge_vlans()
    local t = lan(function(d)
      d.links[1].a = { node = "h1", vlan = 10, addr = "10.0.10.1/24" }
      d.links[1].b = { node = "sw", vlans = { 10, 20 } } -- a trunk: both tagged
    end)
    local net <close> = assert(topo.apply(t))
    local h1 = H.iplinks("tvl-h1")
    assert.are.same({ "vlan", 10, "h1-eth0" }, { h1["h1-eth0.10"].linkinfo.info_kind,
      h1["h1-eth0.10"].linkinfo.info_data.id, h1["h1-eth0.10"].link })
    assert.matches("10.0.10.1/24", H.sh("ip -n tvl-h1 addr show dev h1-eth0.10"))
    assert.are.same({ [10] = "", [20] = "" }, H.bridge_vlans(net.sw.netns)["sw-eth0"])
    local cap = H.tcpdump("sw-eth0", "vlan 10 and icmp", "tvl-sw")
    assert.is_true((net.h1:ping(net.h2, { count = 2 })))
    assert.matches("vlan 10, p 0, ethertype IPv4", cap.text()) -- tagged on the trunk
    assert.is_false((net.h1:ping(net.h3)))
    assert.are.same({}, (net:diff(t)))
    -- the end moves to VLAN 20: its interface goes, another comes, the trunk stays
    local t20 = lan(function(d)
      d.links[1].a = { node = "h1", vlan = 20, addr = "10.0.10.1/24" }
      d.links[1].b = { node = "sw", vlans = { 10, 20 } }
    end)
    local _, text = net:diff(t20)
    assert.are.equal("- link h1:h1-eth0.10\n+ link h1:h1-eth0.20 vlan on h1-eth0\n+ addr h1:h1-eth0.20 10.0.10.1/24", text)
    assert(net:apply(t20))
    assert.is_true((net.h1:ping(net.h3)))
    assert.are.same({}, (net:diff(t20)))
  end))
end)
