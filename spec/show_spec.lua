-- vnet.show and vnet.json: links, addresses, routes, neighbours and
-- namespaces as `ip -br` text and `ip -j` JSON (issue 16, item 4). The
-- witness is iproute2 itself: its -j output decoded with dkjson, its -br
-- and route/neigh text, compared with what vnet prints for the same state.
local H = require "spec.helper"
local json = require "dkjson"
local sandboxed = H.sandboxed
local V = H.vnet

-- A namespace with something of each: a veth pair (one end up, no
-- carrier), a bridge with a port, a TUN with a peer address, IPv4 and IPv6
-- addresses, routes of several kinds and tables, neighbours.
local function lab()
  local a = assert(vnet.veth.create("veth0", "veth1"))
  assert(vnet.bridge.create { name = "br0" })
  assert(vnet.veth.create("p0", "p1", { master = "br0", up = true }))
  assert(a:set { up = true, mtu = 1400 })
  assert(vnet.addr.add("veth0", "10.0.0.1/24", { broadcast = "+" }))
  assert(vnet.addr.add("veth0", "2001:db8::1/64", { nodad = true }))
  local tun = assert(vnet.tun.open "tun0")
  assert(tun:addr_add("10.9.0.1", { peer = "10.9.0.2" }))
  assert(vnet.route.add { dst = "10.1.0.0/16", via = "10.0.0.254", metric = 10 })
  assert(vnet.route.add { dst = "192.0.2.0/24", type = "blackhole" })
  assert(vnet.route.add { dst = "default", dev = "veth0", table = 100 })
  assert(vnet.neigh.add("veth0", "10.0.0.2", "02:00:00:00:00:02"))
  assert(vnet.neigh.add("veth0", "10.0.0.3", "02:00:00:00:00:03", { state = "stale", router = true }))
  return tun
end

-- `ip -j <args>` decoded (without -d: as a person would run it)
local function ipj(args)
  local out, code = H.sh("ip -j " .. args)
  assert(code == 0, out)
  return json.decode(out)
end

local function by(list, key)
  local t = {}
  for _, x in ipairs(list) do t[x[key]] = x end
  return t
end

local function lines(text)
  local out = {}
  for l in text:gmatch("[^\n]+") do out[#out + 1] = (l:gsub("%s+$", "")) end
  return out
end

describe("vnet.show", function()
  H.keeps_host_state(setup, teardown)

  it("adds no globals but vnet.json on the vnet table", function()
    H.adds_no_globals("vnet.show")
    assert.are.equal(vnet.show.json, vnet.json)
  end)

  it("gives link.list() as ip -j link shows it, field by field", sandboxed(function()
    local tun <close> = lab()
    local mine = by(json.decode(vnet.json(vnet.link.list())), "ifindex")
    local theirs = H.ip("link show")
    assert.are.equal(#theirs, #json.decode(vnet.json(vnet.link.list())))
    for _, want in ipairs(theirs) do
      local got = assert(mine[want.ifindex], want.ifname)
      for _, k in ipairs { "ifindex", "ifname", "link", "flags", "mtu", "master", "operstate",
        "txqlen", "link_type", "address", "broadcast", "promiscuity", "min_mtu", "max_mtu",
        "num_tx_queues", "num_rx_queues" } do
        assert.are.same(want[k], got[k], want.ifname .. ": " .. k)
      end
      assert.are.same(want.linkinfo and want.linkinfo.info_kind, got.linkinfo and got.linkinfo.info_kind)
      assert.are.same(want.linkinfo and want.linkinfo.info_slave_kind,
        got.linkinfo and got.linkinfo.info_slave_kind)
    end
    -- one link alone: the same object
    local one = json.decode(vnet.json(vnet.link.get("veth0")))
    assert.are.same(mine[one.ifindex], one)
  end))

  it("prints link.list() and each link as ip -br link does", sandboxed(function()
    local tun <close> = lab()
    local want = lines(H.sh("ip -br link"))
    assert.are.same(want, lines(tostring(vnet.link.list())))
    assert.are.equal(want[#want - 1] ~= nil, true)
    for _, l in ipairs(vnet.link.list()) do
      local line
      for _, w in ipairs(want) do if w:find(l.name, 1, true) == 1 then line = w end end
      assert.are.equal(line, tostring(l))
    end
  end))

  it("gives addr.list() as ip -j addr shows it (addr_info per link)", sandboxed(function()
    local tun <close> = lab()
    local mine = by(json.decode(vnet.json(vnet.addr.list())), "ifindex")
    local n = 0
    for _, want in ipairs(H.ip("addr show")) do
      if #want.addr_info > 0 then
        n = n + 1
        local got = assert(mine[want.ifindex], want.ifname)
        for _, k in ipairs { "ifname", "link", "flags", "mtu", "operstate", "link_type", "address" } do
          assert.are.same(want[k], got[k], want.ifname .. ": " .. k)
        end
        assert.are.same(want.addr_info, got.addr_info, want.ifname)
      else
        assert.is_nil(mine[want.ifindex])
      end
    end
    assert.is_true(n >= 3, n .. " links with addresses") -- lo, veth0, tun0 at least
  end))

  it("prints addr.list() as ip -br addr does (the links that have addresses)", sandboxed(function()
    local tun <close> = lab()
    local want = {}
    for _, l in ipairs(lines(H.sh("ip -br addr"))) do
      if l:match("^%S+%s+%S+%s+%S") then want[#want + 1] = l end
    end
    assert.are.same(want, lines(tostring(vnet.addr.list())))
    assert.are.equal("inet 10.9.0.1 peer 10.9.0.2/32 scope global tun0",
      tostring(vnet.addr.list("tun0", { family = "inet" })[1]))
  end))

  it("gives route.list() as ip -j route shows it, every table", sandboxed(function()
    local tun <close> = lab()
    local want = ipj("route show table all")
    local got = json.decode(vnet.json(vnet.route.list { table = "all", family = "inet" }))
    local v4 = {}
    for _, r in ipairs(want) do
      if not (r.dst or ""):find(":", 1, true) then r.flags = nil; v4[#v4 + 1] = r end
    end
    for _, r in ipairs(got) do r.flags = nil end
    local key = function(r) return (r.table or "main") .. " " .. (r.type or "") .. " " .. r.dst end
    local w, g = {}, {}
    for _, r in ipairs(v4) do w[key(r)] = r end
    for _, r in ipairs(got) do g[key(r)] = r end
    assert.are.same(w, g)
    assert.is_truthy(g["100  default"])
    assert.is_truthy(g["main blackhole 192.0.2.0/24"])
  end))

  it("prints route.list() as ip route does, and a route as its line", sandboxed(function()
    local tun <close> = lab()
    local want = lines((H.sh("ip route"):gsub(" linkdown", "")))
    assert.are.same(want, lines(tostring(vnet.route.list { family = "inet" })))
    local rs = vnet.route.list { family = "inet" }
    assert.are.equal("10.1.0.0/16 via 10.0.0.254 dev veth0 metric 10", tostring(rs[2]))
    assert.are.equal("blackhole 192.0.2.0/24", tostring(rs[3]))
    assert.are.equal("10.1.2.3 via 10.0.0.254 dev veth0 src 10.0.0.1", tostring(vnet.route.get("10.1.2.3")))
  end))

  it("gives neigh.list() as ip -j neigh shows it, and prints it as ip neigh", sandboxed(function()
    local tun <close> = lab()
    assert.are.same(ipj("neigh show"), json.decode(vnet.json(vnet.neigh.list())))
    assert.are.same(lines(H.sh("ip neigh")), lines(tostring(vnet.neigh.list())))
    assert.are.equal("10.0.0.3 dev veth0 lladdr 02:00:00:00:00:03 router STALE",
      tostring(by(vnet.neigh.list("veth0"), "dst")["10.0.0.3"]))
  end))

  it("gives netns.list() as ip -j netns shows it, one name a line as text", sandboxed(function()
    local red = assert(vnet.netns.create("vnetshow-red"))
    local blue = assert(vnet.netns.create("vnetshow-blue"))
    local mine = json.decode(vnet.json(vnet.netns.list()))
    local theirs = json.decode((H.sh("ip -j netns list")))
    local names = function(t)
      local s = {}
      for _, x in ipairs(t) do s[#s + 1] = x.name end
      table.sort(s)
      return s
    end
    assert.are.same(names(theirs), names(mine))
    assert.matches("vnetshow%-red", tostring(vnet.netns.list()))
    assert.matches("vnetshow%-blue\n", tostring(vnet.netns.list()) .. "\n")
    red:delete(); blue:delete()
  end))

  it("leaves internal fields out and encodes plain values as JSON", sandboxed(function()
    local tun <close> = lab()
    for _, x in ipairs { vnet.link.list(), vnet.link.get("veth0"), vnet.addr.list(),
      vnet.route.list(), vnet.neigh.list() } do
      local text = vnet.json(x)
      assert.not_matches('"_', text)
      assert.not_matches("nsino", text)
      assert.is_table(json.decode(text))
    end
    assert.are.equal('{"a":[1,2.5,true],"b":"x\\"y\\n\\u0001"}', vnet.json { a = { 1, 2.5, true }, b = 'x"y\n\1' })
    assert.are.equal('[]', vnet.json(setmetatable({}, vnet.show.array)))
    assert.are.equal('null', vnet.json(nil))
    local loop = {}; loop.self = loop
    assert.has_error(function() vnet.json(loop) end, "vnet.json: a table that contains itself")
    -- vnet objects inside plain tables take their ip -j shape too
    local nested = json.decode(vnet.json { links = vnet.link.list() })
    assert.are.equal("lo", nested.links[1].ifname)
  end))

  it("vnet -e prints what it returns as text, vnet -j -e as JSON", sandboxed(function()
    local tun <close> = lab()
    local out, rc = H.sh(V .. " -j -e 'return vnet.link.list()'")
    assert.are.equal(0, rc, out)
    local mine = json.decode(out)
    local theirs = H.ip("link show")
    assert.are.equal(#theirs, #mine)
    for i = 1, #theirs do assert.are.equal(theirs[i].ifname, mine[i].ifname) end
    out, rc = H.sh(V .. " -e 'return vnet.route.list { family = \"inet\" }'")
    assert.are.same(lines((H.sh("ip -4 route"):gsub(" linkdown", ""))), lines(out))
    assert.are.same({ '[null,"no such thing",2]\n', 0 }, { H.sh(V .. " -j -e 'return nil, \"no such thing\", 2'") })
    assert.are.same({ "1\tx\n", 0 }, { H.sh(V .. " -e 'return 1, \"x\"'") })
    assert.are.same({ "", 0 }, { H.sh(V .. " -e 'local x = 1'") })
    -- a script's return value, with -j
    local s = H.tmpscript("return vnet.neigh.list()")
    out, rc = H.sh(V .. " -j " .. s)
    os.remove(s)
    assert.are.equal(0, rc, out)
    assert.are.same(ipj("neigh show"), json.decode(out))
  end))
end)
