-- dev:on_packet(fn, { to = dev2 }): the handler's result is a verdict and
-- the loop writes the packet (issue 15: the write's lookup, call and type
-- tests leave the per-packet Lua). nil or true: on to dev2; false: dropped;
-- a device: to that one instead. Witnesses: ping's own count of its
-- replies, the kernel's ICMP counters in the namespaces, and the device
-- counters the loop keeps.
local H = require "spec.helper"
local ring = require "spec.support.ring"
local sandboxed = H.sandboxed
local loop, tun = vnet.loop, vnet.tun

local SRC = debug.getinfo(1, "S").short_src

local raises_here = H.raises_here

-- A (10.200.0.1, fa) <-> B (10.200.0.2, fb), closed when the value is
-- (spec/support/tunpair.lua)
local lab = require("spec.support.tunpair").lab

-- ping from A to B count times while the loop forwards: replies received
local function ping_through(l, count)
  local got, out
  loop.spawn(function()
    local _, text = H.ping(l.A, "10.200.0.2", count)
    out = text
    got = tonumber(text:match("(%d+) received"))
    loop.stop()
  end)
  local ok, why = loop.run { timeout = 60 }
  assert(ok, why)
  return got, out
end

local ring_tun = ring.open -- spec/support/ring.lua

-- the ICMP echo request of this sequence number, or nil
local function echo_request(p)
  local icmp = p:u8(0) >> 4 == 4 and p:icmp()
  return icmp and icmp.type == 8 and icmp.seq or nil
end

describe("on_packet verdicts (issue 15)", function()
  after_each(function()
    assert.are.equal(0, loop.active(), "a spec left a watcher running")
    loop.on_error(nil)
  end)

  it("forward what the handler passes to `to`, both ways", sandboxed(function()
    local l <close> = lab()
    local seen = 0
    local w = l.fa:on_packet(function(p) seen = seen + 1 end, { to = l.fb })
    l.fb:on_packet(function() return true end, { to = l.fa })
    assert.are.equal(l.fb, w.to)
    local icmp0 = H.snmp(l.B, "Icmp").InEchos
    assert.are.equal(5, ping_through(l, 5))
    assert.are.equal(5, H.snmp(l.B, "Icmp").InEchos - icmp0) -- B's kernel got each one
    assert.is_true(seen >= 5 and l.fb.tx_packets >= 5 and l.fa.tx_packets >= 5)
    assert.are.equal(0, l.fa:counters().handler_drops)
  end))

  it("drop what the handler answers false, counted as handler_drops", sandboxed(function()
    local l <close> = lab()
    l.fa:on_packet(function(p)
      local seq = echo_request(p)
      if seq and seq % 2 == 0 then return false end
    end, { to = l.fb })
    l.fb:on_packet(function() end, { to = l.fa })
    local icmp0 = H.snmp(l.B, "Icmp").InEchos
    assert.are.equal(3, ping_through(l, 6)) -- 1, 3, 5
    assert.are.equal(3, H.snmp(l.B, "Icmp").InEchos - icmp0)
    assert.are.equal(3, l.fa:counters().handler_drops)
    assert.are.equal(0, l.fb:counters().handler_drops)
  end))

  it("send a packet to the device the handler returns; a refused write counts at that device",
    sandboxed(function()
    local l <close> = lab()
    -- a TUN that is down refuses writes: what goes there is dropped
    local sink <close> = assert(tun.open { name = "sink0" })
    l.fa:on_packet(function(p)
      local seq = echo_request(p)
      if seq and seq % 2 == 1 then return l.fb end
    end, { to = sink })
    l.fb:on_packet(function() end, { to = l.fa })
    assert.are.equal(2, ping_through(l, 4)) -- 1 and 3 went to fb
    local c = sink:counters()
    assert.is_true(c.tx_dropped >= 2, "sink dropped " .. c.tx_dropped)
    assert.are.equal(0, c.tx_packets)
    local msg, errno = sink:last_error()
    assert.are.equal("write sink0: Input/output error", msg)
    assert.are.equal(5, errno)
    assert.is_true(H.iplink("sink0").operstate ~= "UP")
  end))

  it("report a result that is no verdict at the handler's line, and go on with on_error",
    sandboxed(function()
    local l <close> = lab()
    local errors = {}
    loop.on_error(function(msg) errors[#errors + 1] = msg end)
    local bad = { 42, "fb", {}, vnet.packet.new("x") }
    local n = 0
    local line = debug.getinfo(1, "l").currentline + 1
    l.fa:on_packet(function(p)
      if echo_request(p) then n = n + 1; return bad[n] end
    end, { to = l.fb })
    l.fb:on_packet(function() end, { to = l.fa })
    assert.are.equal(0, ping_through(l, 4))
    loop.on_error(nil)
    local where = "fa: its on_packet handler (" .. SRC .. ":" .. line .. ") returned "
    local tail = "; expected nil, true, false or a packet device"
    assert.are.same({ where .. "a number" .. tail, where .. "a string" .. tail, where .. "a table" .. tail,
      where .. "a vnet.packet" .. tail }, { errors[1]:match("^[^\n]*"), errors[2]:match("^[^\n]*"),
      errors[3]:match("^[^\n]*"), errors[4]:match("^[^\n]*") })
    assert.are.equal(4, l.fa:counters().handler_errors)
    -- without on_error, the loop stops and run returns the message
    -- (the request waits in fa's queue while ping waits for its reply)
    n = 0
    H.ping(l.A, "10.200.0.2", 1)
    local ok, err = loop.run { timeout = 30 }
    assert.is_nil(ok)
    assert.are.equal(where .. "a number" .. tail, err:match("^[^\n]*"))
  end))

  it("keep `to` when the handler is swapped, and drop it with to = false", sandboxed(function()
    local a <close> = assert(tun.open { name = "va" })
    local b <close> = assert(tun.open { name = "vb" })
    local function f() end
    local function g() end
    local w = a:on_packet(f, { to = b })
    assert.are.equal(w, a:on_packet(g))
    assert.are.equal(b, w.to)
    assert.are.equal(g, w.fn)
    assert.are.equal(w, w:set(f))
    assert.are.equal(b, w.to)
    assert.are.equal(w, a:on_packet(g, {}))
    assert.are.equal(b, w.to)
    assert.are.equal(w, a:on_packet(f, { to = a }))
    assert.are.equal(a, w.to)
    assert.are.equal(w, a:on_packet(f, { to = false }))
    assert.is_nil(w.to)
    assert.are.equal(w, vnet.loop.on_packet(a, g, { to = b }))
    assert.are.equal(b, w.to)
    w:stop()
    -- a new handler after stop starts with no `to`
    local w2 = a:on_packet(f)
    assert.is_nil(w2.to)
    w2:stop()
  end))

  it("ignore the result of a handler without `to`, and of one that waited", sandboxed(function()
    local l <close> = lab()
    -- without `to`: returning the write's result is what it always was
    l.fa:on_packet(function(p) return l.fb:write(p) end)
    l.fb:on_packet(function(p) return l.fa:write(p) end)
    assert.are.equal(3, ping_through(l, 3))
    assert.are.equal(0, l.fa:counters().handler_errors)
    -- a handler that waits owns its packet: the loop writes nothing for it
    local waited = 0
    l.fa:on_packet(function(p)
      local copy = p:copy()
      loop.sleep(0)
      waited = waited + 1
      l.fb:write(copy)
      return 42 -- no verdict is read: no error
    end, { to = l.fb })
    l.fb:on_packet(function() end, { to = l.fa })
    local before = l.fb.tx_packets
    assert.are.equal(3, ping_through(l, 3))
    assert.is_true(waited >= 3)
    assert.are.equal(waited, l.fb.tx_packets - before) -- once each, by the handler
    assert.are.equal(0, l.fa:counters().handler_errors)
    for _, t in ipairs(loop.tasks()) do t:cancel() end
  end))

  it("record what the loop writes in a capture of `to`", sandboxed(function()
    local l <close> = lab()
    local path = os.tmpname()
    local cap = assert(l.fb:capture(path))
    l.fa:on_packet(function() end, { to = l.fb })
    l.fb:on_packet(function() end, { to = l.fa })
    assert.are.equal(3, ping_through(l, 3))
    l.fb:capture(false)
    cap:close()
    -- fb's file: the requests written to it and the replies read from it
    local out = H.sh("tcpdump -nn -r " .. path .. " icmp 2>/dev/null")
    os.remove(path)
    local _, requests = out:gsub("10%.200%.0%.1 > 10%.200%.0%.2: ICMP echo request", "")
    local _, replies = out:gsub("10%.200%.0%.2 > 10%.200%.0%.1: ICMP echo reply", "")
    assert.are.same({ 3, 3 }, { requests, replies }, out)
  end))

  it("count a packet for a `to` that closed as dropped there", sandboxed(function()
    local l <close> = lab()
    local spare = assert(tun.open { name = "spare0" })
    l.fa:on_packet(function() end, { to = spare })
    spare:close()
    l.fb:on_packet(function() end, { to = l.fa })
    assert.are.equal(0, ping_through(l, 2))
    assert.is_true(spare:counters().tx_dropped >= 2)
    assert.are.equal("write spare0: Bad file descriptor", (spare:last_error()))
  end))

  -- The kernel forwards every packet the TUN writes straight back to it
  -- (spec/loop_spec.lua's ring): a handler that only rewrites, with the
  -- device as its own `to`, keeps a ring going. Memory stays flat.
  it("pass 100,000 packets with flat memory", sandboxed(function()
    local dev <close> = ring_tun("ring0", "10.77.0")
    local p = ring.udp("10.77.0", "ping")
    local N, count = 100000, 0
    dev:on_packet(function(pkt)
      if pkt:u8(9) ~= 17 then return false end
      count = count + 1
      if count >= N then loop.stop(); return false end
      ring.renew(pkt) -- the kernel's forwarding took a TTL
    end, { to = dev })
    collectgarbage("collect")
    collectgarbage("stop")
    local before = collectgarbage("count")
    for _ = 1, 32 do assert(dev:write(p)) end
    local ok, why = loop.run { timeout = 60 }
    local grown = collectgarbage("count") - before
    collectgarbage("restart")
    dev:on_packet(function() end):stop()
    assert.are.same({ true, "stopped" }, { ok, why })
    assert.are.equal(N, count)
    assert.is_true(grown < 16, string.format("Lua heap grew %.1f KiB over %d packets", grown, N))
  end))

  -- The loop writes a passed packet from the read slot it lies in (no
  -- copy: iobatch.c's vnet_iob_forward). 400 numbered packets circle
  -- through the ring at once, more than a wake-up's budget of 256, so
  -- drains end with a plain read while such writes wait: each number must
  -- still come round as often as every other, none lost, none doubled.
  it("write from the read slots without mixing packets up (400 in flight)", sandboxed(function()
    local dev <close> = ring_tun("ring1", "10.76.0")
    local N, LAPS, seen, total, stray = 400, 20, {}, 0, 0
    for i = 1, N do
      assert(dev:write(ring.udp("10.76.0", string.pack(">I4", i))))
    end
    dev:on_packet(function(pkt)
      if pkt:u8(9) ~= 17 or #pkt ~= 32 then stray = stray + 1; return false end
      local i = pkt:u32(28)
      seen[i] = (seen[i] or 0) + 1
      total = total + 1
      if total >= N * LAPS then loop.stop() end
      ring.renew(pkt)
    end, { to = dev })
    local ok, why = loop.run { timeout = 60 }
    dev:on_packet(function() end):stop()
    assert.are.same({ true, "stopped" }, { ok, why })
    local low, high = math.huge, 0
    for i = 1, N do
      low, high = math.min(low, seen[i] or 0), math.max(high, seen[i] or 0)
    end
    assert.is_true(low >= LAPS - 1 and high <= LAPS + 1,
      string.format("each packet came round %d to %d times in %d laps (%d stray)", low, high, LAPS, stray))
    assert.are.equal(0, dev.tx_dropped)
  end))

  -- ... and a plain read of the device later in the same round (here a
  -- timer's dev:read(), after the drain took its budget) lands in the slot
  -- of the last packet passed: its write must have left first.
  it("let a plain read in the same round wait for the writes from the slots", sandboxed(function()
    local dev <close> = ring_tun("ring2", "10.75.0")
    local N, seen, took = 300, {}, nil
    for i = 1, N do
      assert(dev:write(ring.udp("10.75.0", string.pack(">I4", i))))
    end
    dev:on_packet(function(pkt)
      if pkt:u8(9) ~= 17 or #pkt ~= 32 then return false end
      local i = pkt:u32(28)
      seen[i] = (seen[i] or 0) + 1
      if seen[i] > 1 then return false end -- one lap
      ring.renew(pkt)
    end, { to = dev })
    loop.after(0, function() -- in the drain's round: the budget left packets queued
      local p = assert(dev:read())
      took = p:u32(28)
    end)
    loop.run { timeout = 2 }
    dev:on_packet(function() end):stop()
    assert.is_true(took ~= nil and (seen[took] or 0) == 0, "dev:read() took " .. tostring(took))
    local twice = 0
    for i = 1, N do
      if i ~= took then
        assert.are.equal(2, seen[i], "packet " .. i .. " (dev:read() took " .. took .. ")")
        twice = twice + 1
      end
    end
    assert.are.equal(N - 1, twice)
  end))

  it("refuse a bad `to` at the caller's line, changing nothing", sandboxed(function()
    local a <close> = assert(tun.open { name = "va" })
    local b <close> = assert(tun.open { name = "vb" })
    local gone = assert(tun.open { name = "vc" })
    gone:close()
    local function f() end
    raises_here([[tun:on_packet: option 'to' must be a packet device or false (got 'fb')]],
      function() local x = a:on_packet(f, { to = "fb" }) end)
    raises_here("tun:on_packet: option 'to' must be a packet device or false (got true)",
      function() local x = a:on_packet(f, { to = true }) end)
    raises_here("tun:on_packet: option 'to' must be a packet device or false (got 3)",
      function() local x = a:on_packet(f, { to = 3 }) end)
    raises_here("tun:on_packet: option 'to' must be a packet device or false (got vnet.packet)",
      function() local x = a:on_packet(f, { to = vnet.packet.new("x") }) end)
    raises_here("tun:on_packet: option 'to' is a closed tun",
      function() local x = a:on_packet(f, { to = gone }) end)
    raises_here("tun:on_packet: unknown option 'too' (known: to)",
      function() local x = a:on_packet(f, { too = b }) end)
    raises_here("tun:on_packet: options must be a table (got string)",
      function() local x = a:on_packet(f, "to") end)
    raises_here("loop.on_packet: expected a packet device (got number)",
      function() local x = loop.on_packet(5, f, { to = b }) end)
    raises_here("loop.on_packet: expected a function (got nil)",
      function() local x = loop.on_packet(a, nil, { to = b }) end)
    assert.are.equal(0, loop.active()) -- no watcher was made
    -- on a device with a handler, a refused swap keeps handler and `to`
    local w = a:on_packet(f, { to = b })
    raises_here("tun:on_packet: option 'to' is a closed tun",
      function() local x = a:on_packet(function() end, { to = gone }) end)
    assert.are.equal(f, w.fn)
    assert.are.equal(b, w.to)
    w:stop()
  end))
end)
