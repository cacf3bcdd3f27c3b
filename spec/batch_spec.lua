-- batch_spec.lua: issue 15 (control plane): link.create_many and
-- veth.create_many send their requests many to a send and read the acks
-- together. Checked against iproute2 (`ip -j -d link`): what they make,
-- peers made straight in their namespaces, the request that fails named by
-- its index and the kernel's reason with nothing of the batch left, the
-- session's undo (also after SIGKILL, through the guardian), and misuse.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local veth, link, netns = vnet.veth, vnet.link, vnet.netns

local raises_here = H.raises_here

-- name -> link as iproute2 lists it in the current namespace
local function iplinks()
  local t = {}
  for _, l in ipairs(H.ip("link show")) do t[l.ifname] = l end
  return t
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

local function pairs_list(n, prefix, extra)
  local list = {}
  for i = 1, n do
    list[i] = { name = prefix .. "a" .. i, peer = prefix .. "b" .. i }
    for k, v in pairs(extra or {}) do list[i][k] = v end
  end
  return list
end

describe("batched creation (issue 15)", function()
  H.keeps_host_state(setup, teardown)

  it("makes 150 veth pairs in one call, as iproute2 then lists them", sandboxed(function()
    local before = #vnet.session.list()
    local as, bs = assert(veth.create_many(pairs_list(150, "v")))
    assert.are.same({ 150, 150 }, { #as, #bs })
    local seen = iplinks()
    assert.are.equal(301, count(seen)) -- and lo
    for i = 1, 150 do
      local a, b = as[i], bs[i]
      local ia, ib = seen["va" .. i], seen["vb" .. i]
      assert.are.same({ "va" .. i, "vb" .. i }, { a.name, b.name })
      assert.are.same({ ia.ifindex, ib.ifindex }, { a.ifindex, b.ifindex })
      assert.are.same({ "veth", "veth" }, { ia.linkinfo.info_kind, ib.linkinfo.info_kind })
      assert.are.same({ "vb" .. i, "va" .. i }, { ia.link, ib.link }) -- each names the other
      assert.are.same({ b.ifindex, a.ifindex }, { a.parent, b.parent })
      assert.are.same({ ia.address, ib.address }, { a.address, b.address })
      -- one queue each unless asked (the kernel's per-CPU default, trimmed to 1, costs a grace period)
      assert.are.same({ 1, 1, 1, 1 }, { ia.num_tx_queues, ia.num_rx_queues, ib.num_tx_queues, ib.num_rx_queues })
    end
    assert.are.equal("vb7", assert(as[7]:peer()).name)
    -- every end is the session's, in its journal, and undone with it
    assert.are.equal(before + 300, #vnet.session.list())
    assert.is_true(vnet.session.undo(300))
    assert.are.equal(1, count(iplinks()))
  end))

  it("takes each end's options, and numtxqueues for both ends", sandboxed(function()
    local as, bs = assert(veth.create_many {
      { name = "o0", peer = "o1", mtu = 1400, peer_mtu = 1300, up = true, peer_up = true,
        address = "02:00:00:00:00:0a", peer_address = "02:00:00:00:00:0b" },
      { name = "q0", peer = "q1", numtxqueues = 3, numrxqueues = 2 },
    })
    local o0, o1, q0, q1 = H.iplink("o0"), H.iplink("o1"), H.iplink("q0"), H.iplink("q1")
    assert.are.same({ 1400, "02:00:00:00:00:0a", true }, { o0.mtu, o0.address, H.has_flag(o0, "UP") })
    assert.are.same({ 1300, "02:00:00:00:00:0b", true }, { o1.mtu, o1.address, H.has_flag(o1, "UP") })
    assert.are.same({ 3, 2, 3, 2 }, { q0.num_tx_queues, q0.num_rx_queues, q1.num_tx_queues, q1.num_rx_queues })
    assert.are.same({ 1400, 1300 }, { as[1].mtu, bs[1].mtu })
    -- veth.create asks for one queue per end too
    assert(veth.create("s0", "s1"))
    local s0, s1 = H.iplink("s0"), H.iplink("s1")
    assert.are.same({ 1, 1, 1, 1 }, { s0.num_tx_queues, s0.num_rx_queues, s1.num_tx_queues, s1.num_rx_queues })
  end))

  it("makes each peer straight in its own namespace, in a bridge and up", sandboxed(function()
    assert(vnet.bridge.create { name = "br0" })
    local spaces, list = {}, {}
    for i = 1, 20 do
      spaces[i] = assert(netns.create())
      list[i] = { name = "h" .. i, peer = "c" .. i, peer_netns = spaces[i], master = "br0", up = true }
    end
    local hs, cs = assert(veth.create_many(list))
    local seen = iplinks()
    assert.are.equal(22, count(seen)) -- lo, br0 and the 20 host ends: no peer here
    for i = 1, 20 do
      local ih = seen["h" .. i]
      assert.are.same({ "br0", true }, { ih.master, H.has_flag(ih, "UP") })
      local ic = assert(H.iplink_in(spaces[i], "c" .. i))
      assert.are.equal("veth", ic.linkinfo.info_kind)
      assert.are.same({ ic.ifindex, "c" .. i }, { cs[i].ifindex, cs[i].name })
      assert.are.equal(spaces[i], cs[i].netns)
      assert.are.equal(spaces[i]:id(), assert(hs[i]:peer()).netns:id())
      assert.is_true(cs[i]:set { mtu = 1280 }) -- the object acts in its namespace
      assert.are.equal(1280, H.iplink_in(spaces[i], "c" .. i).mtu)
    end
    assert.is_true(vnet.session.undo(40))
    assert.is_nil(H.iplink("h1"))
    assert.is_nil(H.iplink_in(spaces[20], "c20"))
    for i = 1, 20 do spaces[i]:close() end
  end))

  it("names request k of n and the kernel's reason, and leaves nothing of the batch", sandboxed(function()
    assert(veth.create("dup0", "dup1"))
    local entries = #vnet.session.list()
    local list = pairs_list(6, "e")
    list[4].name = "dup1" -- taken
    local ok, err, eno, k = veth.create_many(list)
    assert.are.same({ nil, "veth.create_many dup1 (request 4 of 6): File exists", 17, 4 },
      { ok, err, eno, k })
    local seen = iplinks()
    assert.are.equal(3, count(seen)) -- lo, dup0, dup1: not one of the other five pairs
    assert.is_truthy(seen.dup0 and seen.dup1)
    assert.are.equal(entries, #vnet.session.list())
  end))

  it("rolls back across sends: request 150 of 200 fails after 128 were made", sandboxed(function()
    local entries = #vnet.session.list()
    local list = pairs_list(200, "r")
    list[150].peer = "ra3" -- the name of request 3's link
    local ok, err, eno, k = veth.create_many(list)
    assert.are.same({ nil, "veth.create_many ra150 (request 150 of 200): File exists", 17, 150 },
      { ok, err, eno, k })
    assert.are.equal(1, count(iplinks()))
    assert.are.equal(entries, #vnet.session.list())
  end))

  it("reports what fails before the kernel is asked by its index too", sandboxed(function()
    local list = pairs_list(3, "p")
    list[2].peer_netns = "no-such-ns"
    local ok, err, eno, k = veth.create_many(list)
    assert.is_nil(ok)
    assert.matches("^veth.create_many pa2 %(request 2 of 3%): ", err)
    assert.matches("no%-such%-ns", err)
    assert.are.same({ 2, 2 }, { eno, k }) -- ENOENT
    assert.are.equal(1, count(iplinks()))
  end))

  it("link.create_many takes any kind, and says which kind the kernel lacks", sandboxed(function()
    local ls = assert(link.create_many { { kind = "bridge", name = "b1" },
      { kind = "bridge", name = "b2", mtu = 1400, up = true } })
    assert.are.same({ "b1", "b2" }, { ls[1].name, ls[2].name })
    local b2 = H.iplink("b2")
    assert.are.same({ "bridge", 1400, true }, { b2.linkinfo.info_kind, b2.mtu, H.has_flag(b2, "UP") })
    local ok, err, eno, k = link.create_many { { kind = "bridge", name = "b3" },
      { kind = "nosuchkind", name = "n1" } }
    assert.are.same({ nil, "link.create_many n1 (request 2 of 2): this kernel has no 'nosuchkind' " ..
      "support (Unknown device type)", 95, 2 }, { ok, err, eno, k })
    assert.is_nil(H.iplink("b3"))
    local bs = assert(vnet.bridge.create_many { { name = "b4" } })
    assert.are.equal("bridge", H.iplink("b4").linkinfo.info_kind)
    assert.are.equal("b4", bs[1].name)
    assert.are.same({}, assert(veth.create_many {})) -- nothing to make
  end))

  it("raises at the caller's line on misuse, naming the item", sandboxed(function()
    raises_here("veth.create_many: expected a list of option tables (got string)", function() local x = veth.create_many("v0") end)
    raises_here("veth.create_many: item 2: options must be a table (got number)", function() local x = veth.create_many { { name = "a" }, 5 } end)
    raises_here("veth.create_many: unknown option 'peeer' (known: address, kind, link, master, mtu, name, " ..
      "netns, numrxqueues, numtxqueues, peer, peer_address, peer_mtu, peer_netns, peer_up, persist, txqueuelen, up)",
      function() local x = veth.create_many { { name = "a", peeer = "b" } } end)
    raises_here("link.create_many m1: option 'txqueuelen' 4294967296 out of range (0 to 4294967295)", function() local x = link.create_many { { kind = "bridge", name = "m0" }, { kind = "bridge", name = "m1", txqueuelen = 1 << 32 } } end)
    assert.are.equal(1, count(iplinks()))
  end))

  it("a session that made pairs in a batch undoes them at its end, and after SIGKILL", sandboxed(function()
    local script = H.tmpscript([[
      local list = {}
      for i = 1, 300 do list[i] = { name = "ka" .. i, peer = "kb" .. i } end
      local as = assert(vnet.veth.create_many(list))
      print(#as, #vnet.session.list())
      io.stdout:flush()
      if ... == "kill" then os.execute("kill -KILL " .. io.open("/proc/self/stat"):read("n")) end
    ]])
    for _, way in ipairs { "exit", "kill" } do
      local out = H.sh(H.vnet .. " " .. script .. " " .. way)
      assert.matches("^300\t600\n", out)
      H.eventually(function() return count(iplinks()) == 1 end) -- after SIGKILL: the guardian's work
      assert.are.equal(1, count(iplinks()), way)
    end
    os.remove(script)
  end))
end)
