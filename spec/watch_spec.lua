-- vnet.link.watch: link and address events through vnet.loop, another
-- namespace, route and neighbour groups, and the resync after the event
-- socket overflowed (ENOBUFS).
local H = require "spec.helper"
local sandboxed = H.sandboxed
local link, loop, veth = vnet.link, vnet.loop, vnet.veth

-- Run the loop until fn(events) says enough (or 5 s).
local function collect(w, events, enough)
  local ok, why = H.run_until(function() return enough(events) end, 5)
  w:stop()
  return ok, why
end

local function find(events, pred)
  for i, e in ipairs(events) do if pred(e) then return e, i end end
end

describe("vnet.link.watch", function()
  H.keeps_host_state(setup, teardown)

  it("tells of links and addresses coming, changing and going", sandboxed(function()
    local events = {}
    local w = assert(link.watch(function(ev) events[#events + 1] = ev end))
    assert.matches("^vnet.watch %(fd %d+%)$", tostring(w))
    loop.after(0.05, function()
      local a = assert(veth.create("w0", "w1"))
      assert(a:set { up = true, mtu = 1400 })
      assert(a:addr_add("10.50.0.1/24"))
      assert(a:addr_del("10.50.0.1/24"))
      assert(a:delete())
    end)
    assert.is_true((collect(w, events, function(ev)
      return find(ev, function(e) return e.type == "link" and e.action == "delete" and e.name == "w0" end)
    end)))
    local add, ia = find(events, function(e) return e.type == "link" and e.action == "add" and e.name == "w0" end)
    assert.is_not_nil(add)
    assert.are.equal("veth", add.link.kind)
    local chg, ic = find(events, function(e) return e.type == "link" and e.action == "change" and
      e.name == "w0" and e.link.mtu == 1400 and e.link.up end)
    assert.is_not_nil(chg)
    assert.is_true(chg.link.up)
    local aadd, iaa = find(events, function(e) return e.type == "addr" and e.action == "add" and
      e.addr.cidr == "10.50.0.1/24" end)
    assert.are.equal("w0", aadd.name)
    local adel, iad = find(events, function(e) return e.type == "addr" and e.action == "delete" and
      e.addr.cidr == "10.50.0.1/24" end)
    local del, id = find(events, function(e) return e.type == "link" and e.action == "delete" and e.name == "w0" end)
    assert.is_not_nil(find(events, function(e) return e.type == "link" and e.action == "delete" and e.name == "w1" end))
    assert.is_true(ia < ic and ic < iaa and iaa < iad and iad < id, "events out of order")
    assert.is_true(w.stopped)
  end))

  it("watches another namespace", sandboxed(function()
    local ns <close> = assert(vnet.netns.create())
    local events = {}
    local w = assert(link.watch(function(ev) events[#events + 1] = ev end, { netns = ns }))
    loop.after(0.05, function()
      assert(veth.create("here0", "here1"))                          -- not seen
      ns:run(function() assert(vnet.bridge.create { name = "there0" }) end) -- seen
    end)
    collect(w, events, function(ev) return find(ev, function(e) return e.name == "there0" end) end)
    local e = find(events, function(x) return x.name == "there0" end)
    assert.are.same({ "link", "add", "bridge" }, { e.type, e.action, e.link.kind })
    assert.are.equal(ns, e.link.netns)
    assert.is_nil(find(events, function(x) return x.name == "here0" end))
  end))

  it("tells of routes and neighbours when asked", sandboxed(function()
    local a = assert(veth.create("n0", "n1", { up = true }))
    assert(a:addr_add("10.51.0.1/24"))
    local events = {}
    local w = assert(link.watch(function(ev) events[#events + 1] = ev end, { groups = { "route", "neigh" } }))
    loop.after(0.05, function()
      assert(vnet.route.add { dst = "10.52.0.0/16", via = "10.51.0.9" })
      assert(vnet.neigh.add("n0", "10.51.0.9", "02:00:00:00:00:09"))
    end)
    collect(w, events, function(ev) return find(ev, function(e) return e.type == "neigh" end) end)
    local r = find(events, function(e) return e.type == "route" and e.route.dst == "10.52.0.0/16" end)
    assert.are.same({ "add", "10.51.0.9" }, { r.action, r.route.via })
    local n = find(events, function(e) return e.type == "neigh" end)
    assert.are.same({ "add", "10.51.0.9", "02:00:00:00:00:09" }, { n.action, n.neigh.dst, n.neigh.lladdr })
    assert.is_nil(find(events, function(e) return e.type == "link" end)) -- not asked for
  end))

  it("reads everything again and says so when events were lost (ENOBUFS)", sandboxed(function()
    local events = {}
    local w = assert(link.watch(function(ev) events[#events + 1] = ev end, { rcvbuf = 1 }))
    for i = 1, 40 do assert(veth.create("o" .. i, "p" .. i)) end -- while nobody reads
    collect(w, events, function(ev) return find(ev, function(e) return e.type == "resync" end) end)
    local rs = find(events, function(e) return e.type == "resync" end)
    assert.is_not_nil(rs, "no resync event")
    assert.are.equal(81, #rs.links) -- lo and 80 veth ends: the tables as they are now
    assert.is_true(vnet.link.is(rs.links[1]))
    assert.is_table(rs.addrs)
    local added = {}
    for _, n in ipairs(rs.added) do added[n] = true end
    assert.is_true(added.o40 and added.p40, "the links made while events were lost are named")
    assert.are.same({}, rs.removed)
  end))

  it("keeps the right picture through a storm, a slow callback that fails, and interrupted dumps (issue 11)",
    sandboxed(function()
    local nl = require "vnet.nl.core"
    local delivered, resyncs, errors = 0, 0, 0
    loop.on_error(function() errors = errors + 1 end)
    local w = assert(link.watch(function(ev)
      delivered = delivered + 1
      if ev.type == "resync" then resyncs = resyncs + 1 end
      local t = os.clock() + 0.0002 -- a slow callback: 0.2 ms an event
      while os.clock() < t do end
      if delivered % 97 == 0 then error("a callback that fails now and then") end
    end, { rcvbuf = 32768 }))
    -- the storm, from a timer: 600 veth pairs made, 200 of them deleted
    -- again; the dumps that resync the picture are interrupted 25 times
    local step, want = 0, nil
    local t = loop.every(0.005, function()
      step = step + 1
      if step <= 60 then
        for i = 1, 10 do local n = (step - 1) * 10 + i; assert(veth.create("s" .. n, "t" .. n)) end
        if step == 3 then nl._inject_dump_intr(25) end
      elseif step <= 80 then
        for i = 1, 10 do assert(link.delete("s" .. ((step - 61) * 10 + i))) end
      elseif not w.retry and not w.cont then
        -- the storm is over: wait (however long the backlog takes) until
        -- the watch's picture is what iproute2 sees
        if not want then
          want = {}
          for _, l in ipairs(H.ip("link show")) do want[#want + 1] = l.ifname end
          table.sort(want)
        end
        if table.concat(w:names(), " ") == table.concat(want, " ") then loop.stop() end
      end
    end)
    local ok, why = loop.run { timeout = 60 }
    t:stop()
    nl._inject_dump_intr(0)
    loop.on_error(nil)
    local names = w:names()
    w:stop()
    assert.are.equal(801, #want) -- lo and 400 pairs
    assert.are.same(want, names)
    assert.are.same({ true, "stopped" }, { ok, why })
    assert.is_true(resyncs >= 1, ("no resync event (%d events)"):format(delivered))
    assert.is_true(w.retries >= 2, "the interrupted dumps were not tried again")
    assert.is_true(errors >= 3, ("the callback's errors did not reach loop.on_error (%d of %d events)"):format(errors, delivered))
  end))

  it("hands a callback's error to loop.run", sandboxed(function()
    local w = assert(link.watch(function() error("boom in the watcher") end))
    loop.after(0.05, function() assert(veth.create("e0", "e1")) end)
    local ok, msg = loop.run { timeout = 5 }
    w:stop()
    assert.is_nil(ok)
    assert.matches("boom in the watcher", msg)
  end))

  it("stops: no more events, the loop has nothing left", sandboxed(function()
    local n = 0
    local w = assert(link.watch(function() n = n + 1 end))
    w:stop()
    w:stop() -- twice is fine
    assert(veth.create("s0", "s1"))
    assert.are.same({ true, "empty" }, { loop.run { timeout = 1 } })
    assert.are.equal(0, n)
    assert.are.equal("vnet.watch (stopped)", tostring(w))
  end))

  describe("bad input", function()
    it("raises on misuse", function()
      assert.has_error(function() link.watch() end, "link.watch: expected a function (got nil)")
      assert.has_error(function() link.watch(print, { groups = { "link", "mroute" } }) end,
        "link.watch: option 'groups': unknown group 'mroute' (known: addr, link, neigh, route)")
      assert.has_error(function() link.watch(print, { group = { "link" } }) end,
        "link.watch: unknown option 'group' (known: groups, netns, rcvbuf)")
      assert.are.same({ nil, "netns.open vnet-none: No such file or directory (no such namespace: " ..
        "see `ip netns list` or vnet.netns.list())", 2 }, { link.watch(print, { netns = "vnet-none" }) })
    end)
  end)
end)
