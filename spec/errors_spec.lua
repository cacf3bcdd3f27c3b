-- errors_spec.lua: issue 9 item 3: a misuse error says what is wrong and
-- points at the user's line (this file's), in every module, whatever the
-- path inside vnet (Lua wrappers, C functions under them, tail calls,
-- kind descriptions, method calls). Each case is one line: the function
-- that misuses vnet is defined on it, so its linedefined is the position
-- the error must name.
local H = require "spec.helper"
local sandboxed = H.sandboxed

local SRC = debug.getinfo(1, "S").short_src

local raises_here = H.raises_here

local IDX = "out of range (1 to 2147483647)"

describe("misuse errors (issue 9)", function()
  it("point at the caller's line in vnet.link", sandboxed(function()
    raises_here("link.get: ifindex -1 " .. IDX, function() local x = vnet.link.get(-1) end)
    raises_here("link.get: expected a link name, ifindex or link object (got boolean)", function() local x = vnet.link.get(true) end)
    raises_here("link.set: unknown option 'mtux' (known: address, master, mtu, name, netns, nomaster, txqueuelen, up)", function() local x = vnet.link.set("lo", { mtux = 1 }) end)
    local t <close> = assert(vnet.tap.open { name = "m0" })
    local r = H.iplink("m0") -- the range iproute2 reports for this link
    local range = string.format("out of range (%d to %d)", r.min_mtu, r.max_mtu)
    raises_here("link.set m0: option 'mtu' 10 " .. range, function() local x = vnet.link.set("m0", { mtu = 10 }) end)
    raises_here("link.set m0: option 'mtu' 100000 " .. range, function() local x = vnet.link.set(t, { mtu = 100000 }) end)
    raises_here("link.create: option 'kind' is required (a string)", function() local x = vnet.link.create { name = "x" } end)
    raises_here("link.delete: ifindex 4294967297 " .. IDX, function() local x = vnet.link.delete(1 << 32 | 1) end)
    raises_here("link.set: option 'mtu' must be integer (got 1.5)", function() local x = vnet.link.set("lo", { mtu = 1.5 }) end)
  end))

  it("point at the caller's line through a tail call and through methods", sandboxed(function()
    local function tail() return vnet.link.get(-1) end
    local ok, err = pcall(function()
      local x = tail() -- the tail call replaced `tail`'s frame: this line
    end)
    assert.is_false(ok)
    assert.are.equal(SRC .. ":" .. (debug.getinfo(1, "l").currentline - 3) .. ": link.get: ifindex -1 " .. IDX, err)
    -- through ns:run's pcall relay: a link of another namespace, and user code run there
    local other <close> = assert(vnet.netns.create())
    local a = assert(vnet.veth.create("r0", "r1", { netns = other }))
    assert.are.equal(other, a.netns)
    raises_here("link.set r0: option 'txqueuelen' -1 out of range (0 to 4294967295)", function() local x = a:set { txqueuelen = -1 } end)
    raises_here("link.get: ifindex -1 " .. IDX, function() other:run(function() local x = vnet.link.get(-1) end) end)
    local lo = assert(vnet.link.get("lo"))
    raises_here("link:peer: expected a link object (call it as l:peer(...); got number)", function() local x = lo.peer(5) end)
    raises_here("link.set: unknown option 'bogus' (known: address, master, mtu, name, netns, nomaster, txqueuelen, up)", function() local x = lo:set { bogus = 1 } end)
  end))

  it("point at the caller's line in addr, route and neigh", sandboxed(function()
    raises_here("addr.add lo: '10.0.0.1/24x' is not an IPv4 or IPv6 address", function() local x = vnet.addr.add("lo", "10.0.0.1/24x") end)
    raises_here("addr.flush: ifindex -9223372036854775808 " .. IDX, function() local x = vnet.addr.flush(math.mininteger) end)
    raises_here("addr.list: ifindex -1 " .. IDX, function() local x = vnet.addr.list(-1) end)
    raises_here("route.add: option 'dst' is required (a prefix, an address or \"default\")", function() local x = vnet.route.add {} end)
    raises_here("route.add: ifindex -1 " .. IDX, function() local x = vnet.route.add { dst = "10.9.0.0/24", dev = -1 } end)
    raises_here("route.add 10.9.0.0/24: option 'metric' -1 out of range (0 to 4294967295)", function() local x = vnet.route.add { dst = "10.9.0.0/24", dev = "lo", metric = -1 } end)
    raises_here("neigh.add: ifindex -1 " .. IDX, function() local x = vnet.neigh.add(-1, "10.0.0.1", "02:00:00:00:00:01") end)
    raises_here("neigh.add lo: 'x' is not an IPv4 or IPv6 address", function() local x = vnet.neigh.add("lo", "x", "02:00:00:00:00:01") end)
    raises_here("neigh.list: ifindex -1 " .. IDX, function() local x = vnet.neigh.list(-1) end)
    raises_here("neigh.list: option 'family' must be inet or inet6 (got 'ipx')", function() local x = vnet.neigh.list(nil, { family = "ipx" }) end)
    raises_here("route.add 10.0.0.0/8: option 'via' '10.0.0.1/32' is not an IPv4 or IPv6 address", function() local x = vnet.route.add { dst = "10.0.0.0/8", via = "10.0.0.1/32" } end)
    raises_here("route.get: ifindex 0 " .. IDX, function() local x = vnet.route.get("10.0.0.1", { dev = 0 }) end)
  end))

  it("point at the caller's line in tun, tap and packet devices", sandboxed(function()
    raises_here("tun.open: name 'a\\0b' contains a NUL byte", function() local x = vnet.tun.open { name = "a\0b" } end)
    raises_here("tun.open: option 'owner' 4294967297 out of range (0 to 4294967294)", function() local x = vnet.tun.open { owner = (1 << 32) + 1 } end)
    raises_here("tap.open: option 'group' 4294967329 out of range (0 to 4294967294)", function() local x = vnet.tap.open { group = (1 << 32) + 33 } end)
    raises_here("tap.open: no such user 'nosuch-user-x'", function() local x = vnet.tap.open { owner = "nosuch-user-x" } end)
    local t = assert(vnet.tap.open { name = "e0" })
    raises_here("tap:addr_add e0: address must be a string", function() local x = t:addr_add(nil) end)
    raises_here("tap:on_packet: expected a function (got number)", function() local x = t:on_packet(5) end)
    raises_here("expected a packet device (call its methods with ':'; got number)", function() local x = t.up(5) end)
    t:close()
    raises_here("attempt to use a closed tap", function() local x = t:addrs() end)
    raises_here("attempt to use a closed tap", function() local x = t:up() end)
    raises_here("attempt to use a closed tap", function() local x = t:read() end)
    assert.is_nil(H.iplink("e0"))
  end))

  it("point at the caller's line in the link kinds", sandboxed(function()
    raises_here("veth.create: name 'x%d' has a '%': the kernel would choose the name; give the name itself", function() local x = vnet.veth.create("x%d", "y") end)
    raises_here("veth.create x: option 'peer_mtu' 10 out of range (68 to 65535)", function() local x = vnet.veth.create("x", "y", { peer_mtu = 10 }) end)
    raises_here("bridge.create b0: option 'priority' must be 0 to 65535 (got 70000)", function() local x = vnet.bridge.create { name = "b0", priority = 70000 } end)
    raises_here("macvlan.create m0: option 'link' is required (the parent device)", function() local x = vnet.macvlan.create { name = "m0" } end)
    raises_here("macvtap.open: expected a macvtap or ipvtap link object (from vnet.macvtap.create or vnet.link.get; got number)", function() local x = vnet.macvtap.open(5) end)
    raises_here("vxlan.create vx0: option 'id' is required (the VNI, 0 to 16777215)", function() local x = vnet.vxlan.create { name = "vx0" } end)
    raises_here("vxlan.create: ifindex -5 " .. IDX, function() local x = vnet.vxlan.create { name = "vx0", id = 1, dev = -5 } end)
    raises_here("vlan.create v0: option 'id' is required (0 to 4094)", function() local x = vnet.vlan.create { name = "v0", link = "lo" } end)
    raises_here("geneve.create g0: option 'remote' is required", function() local x = vnet.geneve.create { name = "g0", id = 1 } end)
    raises_here("vrf.create r0: option 'table' is required", function() local x = vnet.vrf.create { name = "r0" } end)
    raises_here("bareudp.create u0: option 'dstport' is required", function() local x = vnet.bareudp.create { name = "u0", ethertype = "ipv4" } end)
    raises_here("bareudp.create u0: option 'ethertype' is required", function() local x = vnet.bareudp.create { name = "u0", dstport = 6635 } end)
    raises_here("bareudp.create u0: option 'ethertype' must be one of ipv4, ipv6, mpls_mc, mpls_uc (got 'mpls')", function() local x = vnet.bareudp.create { name = "u0", dstport = 1, ethertype = "mpls" } end)
    raises_here("bareudp.create u0: option 'multiproto' needs ethertype \"ipv4\" or \"mpls_uc\" (got 'ipv6')", function() local x = vnet.bareudp.create { name = "u0", dstport = 1, ethertype = "ipv6", multiproto = true } end)
    raises_here("bareudp.create u0: option 'dstport' must be 1 to 65535 (got 0)", function() local x = vnet.bareudp.create { name = "u0", dstport = 0, ethertype = "ipv4" } end)
    raises_here("gre.create g0: option 'key' must be 0 to 4294967295 (got -1)", function() local x = vnet.gre.create { name = "g0", key = -1 } end)
    raises_here("ipvlan.create: unknown option 'nope' (known: address, flags, kind, link, master, mode, mtu, name, netns, numrxqueues, numtxqueues, persist, txqueuelen, up)", function() local x = vnet.ipvlan.create { name = "i0", nope = 1 } end)
    for _, kind in ipairs { "bond", "dummy", "ifb", "gretap", "ipip", "sit", "ip6tnl", "vti", "ipvtap", "macvtap" } do
      raises_here(kind .. ".create: option 'name' is required", function() local x = vnet[kind].create {} end)
    end
    raises_here("link.watch: option 'rcvbuf' 4294967296 out of range (0 to 2147483647)", function() local x = vnet.link.watch(function() end, { rcvbuf = 1 << 32 }) end)
    assert.are.equal(1, #H.ip("link show")) -- only lo: nothing was left
  end))

  it("point at the caller's line in netns, loop, pcap, watch and the header views", sandboxed(function(ns)
    raises_here("netns.create: 'a\\0b' is not a valid namespace name (1 to 255 bytes, no '/', white space or NUL, not '.' or '..')", function() local x = vnet.netns.create("a\0b") end)
    raises_here("netns.exec: option 'timeout' must be 0 or more seconds (got nan)", function() local x = ns:exec { "true", timeout = 0 / 0 } end)
    raises_here("netns.exec: option 'timeout' must be 0 or more seconds (got -1)", function() local x = ns:exec { "true", timeout = -1 } end)
    raises_here("netns.exec: option 'max_output' must be 0 or more bytes (got -1)", function() local x = ns:exec { "true", max_output = -1 } end)
    raises_here("netns.exec: argument 2 must be a string (got table)", function() local x = ns:exec { "true", {} } end)
    raises_here("netns.exec: argument 2 'a\\0b' contains a NUL byte", function() local x = ns:exec { "echo", "a\0b" } end)
    raises_here("loop.run: option 'timeout' must be a number of seconds (got boolean)", function() local x = vnet.loop.run { timeout = false } end)
    raises_here("loop.run: option 'timeout' must be 0 or more seconds (got nan)", function() local x = vnet.loop.run { timeout = 0 / 0 } end)
    raises_here("pcap.open: path '/tmp/a\\0b' contains a NUL byte", function() local x = vnet.pcap.open("/tmp/a\0b", "w") end)
    raises_here("link.watch: expected a function (got nil)", function() local x = vnet.link.watch(nil) end)
    local ip = "\69\0\0\30\0\0\0\0\64\17\0\0\10\0\0\1\10\0\0\2"
    local p = vnet.packet.new(ip .. string.pack(">I2I2I2I2", 1, 2, 10, 0) .. "hi")
    local u = assert(p:udp())
    raises_here("udp has no field 'dprot'", function() local x = u.dprot end)
    raises_here("udp has no field 'dprot'", function() u.dprot = 1 end)
  end))
end)

describe("ranges at the border (issue 9)", function()
  it("a huge exec timeout is clamped, not overflowed", sandboxed(function(ns)
    assert.are.same({ 0, "" }, { ns:exec { "true", timeout = 1e300 } })
    assert.are.same({ 0, "" }, { ns:exec { "true", timeout = 2 ^ 31 } })
  end))

  it("names vnet.errno values", function()
    assert.are.same({ 17, 95, 99, 19, 16, 22, 3 }, { vnet.errno.EEXIST, vnet.errno.EOPNOTSUPP,
      vnet.errno.EADDRNOTAVAIL, vnet.errno.ENODEV, vnet.errno.EBUSY, vnet.errno.EINVAL,
      vnet.errno.ESRCH })
  end)
end)
