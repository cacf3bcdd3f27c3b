-- task_spec.lua: tasks on vnet.loop (spawn, the waits, handlers that
-- yield), hot swap under traffic, per-device counters and the packet ring
-- (issue 12). The REPL side is in repl_live_spec.lua.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local loop, tun = vnet.loop, vnet.tun

-- "spec/task_spec.lua:<line of the caller>: " + msg
local function here(msg)
  return ("spec/task_spec.lua:%d: %s"):format(debug.getinfo(2, "l").currentline, msg)
end

-- the error f raises, position and all (assert.has_error drops it)
local function err_of(f)
  local ok, e = pcall(f)
  assert(not ok, "no error")
  return e
end

-- A TUN with a peer address, IPv6 off so that only what a test sends comes in
local function tun_dev(name, addr, peer)
  assert(io.open("/proc/sys/net/ipv6/conf/default/disable_ipv6", "w")):write("1"):close()
  local dev = assert(tun.open { name = name })
  assert(dev:addr_add(addr, { peer = peer }))
  assert(dev:up())
  return dev
end

local function echo(p, d) if p:echo_reply() then d:write(p) end end

describe("vnet.loop tasks", function()
  after_each(function()
    loop.on_error(nil)
    assert.are.same({}, loop.tasks(), "a spec left a task")
    assert.are.equal(0, loop.active(), "a spec left a watcher running")
  end)

  it("run a function with its arguments from the next turn, and wait", function()
    local log = {}
    local t = loop.spawn(function(a, b)
      log[#log + 1] = a .. b
      loop.sleep(0.05)
      log[#log + 1] = "slept"
      coroutine.yield() -- a plain yield: resumed on the next turn
      log[#log + 1] = "yielded"
      local quiet <close> = io.popen("sleep 1")
      assert.are.same({ nil, "timeout" }, { loop.wait_readable(quiet, 0.02) })
      assert.are.same({ nil, "timeout" }, { loop.wait_signal("USR1", 0.02) })
    end, "x", "y")
    assert.are.same({}, log) -- not yet
    assert.matches("^vnet%.task %d+ %(spec/task_spec%.lua:%d+%): waiting for its turn$", tostring(t))
    assert.are.same({ t }, loop.tasks())
    assert.are.same({ true, "empty" }, { loop.run { timeout = 5 } })
    assert.are.same({ "xy", "slept", "yielded" }, log)
    assert.are.equal("done", t.status)
  end)

  it("wait for a signal", function()
    local got
    loop.spawn(function() got = loop.wait_signal("USR2", 5) end)
    loop.after(0.05, function() os.execute("kill -USR2 " .. H.mypid()) end)
    assert.is_true((loop.run { timeout = 5 }))
    assert.are.equal("USR2", got)
  end)

  it("let timer callbacks wait: they become tasks", function()
    local log = {}
    loop.after(0.01, function()
      log[#log + 1] = "cb"
      loop.sleep(0.03)
      log[#log + 1] = "cb woke"
    end)
    loop.after(0.02, function() log[#log + 1] = "other"; loop.stop() end)
    loop.after(0, function() -- a wait refused: it stays a plain callback, no task
      assert(not pcall(loop.sleep, -1))
      assert(not pcall(table.sort, { 1, 2 }, function() coroutine.yield() end))
    end)
    loop.run { timeout = 5 } -- stopped while the callback sleeps
    local ts = loop.tasks()
    assert.are.equal(1, #ts)
    assert.matches("^vnet%.task %d+ %(callback spec/task_spec%.lua:%d+%): waiting for sleep 0%.03s$",
      tostring(ts[1]))
    loop.run { timeout = 5 }
    assert.are.same({ "cb", "other", "cb woke" }, log)
  end)

  it("report an error like a callback's, closing what the task holds", function()
    local closed = false
    loop.spawn(function()
      local _ <close> = setmetatable({}, { __close = function() closed = true end })
      loop.sleep(0.01)
      error("boom")
    end)
    local ok, msg = loop.run { timeout = 5 }
    assert.is_nil(ok)
    assert.matches("^task %d+ %(spec/task_spec%.lua:%d+%): spec/task_spec%.lua:%d+: boom\nstack traceback:\n", msg)
    assert.is_true(closed)
    local seen
    loop.on_error(function(m) seen = m end)
    loop.spawn(function() error({}) end)
    assert.are.same({ true, "empty" }, { loop.run { timeout = 5 } })
    assert.matches("%(error object is a table value%)", seen)
  end)

  it("cancel: the task ends where it waits and its watchers stop", function()
    local closed = false
    local t = loop.spawn(function()
      local _ <close> = setmetatable({}, { __close = function() closed = true end })
      loop.sleep(100)
    end)
    loop.run { timeout = 0.05 }
    assert.are.equal("waiting", t.status)
    assert.is_true(t:cancel())
    assert.is_true(closed)
    assert.are.equal("cancelled", t.status)
    assert.is_false(t:cancel())
    assert.are.equal(0, loop.active())
  end)

  it("reject bad input with a clear error at the caller's line", function()
    assert.are.equal(here("loop.spawn: expected a function (got number)"), err_of(function() loop.spawn(42) end))
    local outside = ": not inside a task (start one with vnet.loop.spawn(fn); loop callbacks may wait too)"
    assert.are.equal(here("loop.sleep" .. outside), err_of(function() loop.sleep(1) end))
    assert.are.equal(here("loop.wait_readable" .. outside), err_of(function() loop.wait_readable(0) end))
    local errs = {}
    loop.spawn(function()
      for _, f in ipairs {
        function() loop.sleep(-1) end,
        function() loop.wait_readable(0, "soon") end,
        function() loop.wait_packet("tun0") end,
        function() loop.wait_signal("NOPE") end,
        function() local co = coroutine.wrap(function() loop.sleep(0) end); co() end,
        function() vnet.netns.current():run(function() loop.sleep(0) end) end,
      } do
        local _, e = pcall(f)
        errs[#errs + 1] = e
      end
    end)
    loop.run { timeout = 5 }
    local L = debug.getinfo(1, "l").currentline
    assert.are.same({
      ("spec/task_spec.lua:%d: loop.sleep: seconds must be a number >= 0 (got -1)"):format(L - 12),
      ("spec/task_spec.lua:%d: loop.wait_readable: timeout must be a number >= 0 (got soon)"):format(L - 11),
      ("spec/task_spec.lua:%d: loop.wait_packet: expected a device (got string)"):format(L - 10),
      ("spec/task_spec.lua:%d: loop.wait_signal: bad argument #1 to 'on_signal' (unknown signal 'NOPE')"):format(L - 9),
      -- coroutine.wrap adds its own position to the error it passes on
      ("spec/task_spec.lua:%d: spec/task_spec.lua:%d: loop.sleep: not inside a task (start one with vnet.loop.spawn(fn); loop callbacks may wait too)"):format(L - 8, L - 8),
      ("spec/task_spec.lua:%d: loop.sleep: cannot wait inside ns:run (the thread would stay in that namespace while other work runs); wait outside it"):format(L - 7),
    }, errs)
  end)

  describe("with devices", function()
    it("wait for a packet with a timeout, and see the device close", sandboxed(function()
      local dev <close> = tun_dev("tw0", "10.9.3.1", "10.9.3.2")
      local got = {}
      loop.spawn(function()
        got[1] = { dev:wait_packet(0.05) }
        local p = assert(dev:wait_packet(20))
        got[2] = { p:u8(9), p:u32(16) }
        -- the close comes while the next wait waits (not at a fixed time: a
        -- slow machine may take longer than that to start ping)
        loop.after(0.05, function() dev:close() end)
        got[3] = { dev:wait_packet() } -- no timeout: woken by the close
      end)
      loop.after(0.1, function() os.execute("ping -c 1 -W 0.1 10.9.3.2 >/dev/null 2>&1") end)
      assert.are.same({ true, "empty" }, { loop.run { timeout = 30 } })
      assert.are.same({ { nil, "timeout" }, { 1, 0x0a090302 }, { nil, "closed" } }, got)
      local errs = {}
      loop.spawn(function() errs[1] = select(2, pcall(dev.wait_packet, dev)) end)
      loop.run { timeout = 5 }
      assert.matches("loop.wait_packet: tw0 is closed$", errs[1])
    end))

    it("refuse two readers on one device", sandboxed(function()
      local dev <close> = tun_dev("tw1", "10.9.4.1", "10.9.4.2")
      local w = dev:on_packet(echo)
      local err
      loop.spawn(function() err = select(2, pcall(loop.wait_packet, dev, 1)) end)
      loop.run { timeout = 0.1 }
      assert.matches("tw1 has an on_packet handler; a device has one reader %(stop it, or wait in the handler%)$", err)
      w:stop()
    end))

    it("let an on_packet handler wait; the next packet goes to a fresh handler thread", sandboxed(function()
      local dev <close> = tun_dev("tw2", "10.9.5.1", "10.9.5.2")
      local log = {}
      dev:on_packet(function(p, d)
        if p:u8(9) ~= 1 then return end
        local seq = p:u16(26)
        log[#log + 1] = "in " .. seq
        if seq == 1 then loop.sleep(0.3); log[#log + 1] = "woke 1" end
        p = nil -- the reused packet changed while we slept
      end)
      local ping = H.spawn("ping -c 3 -i 0.1 -W 0.1 10.9.5.2")
      H.run_until(function() return #log == 4 end) -- all four in
      ping.wait()
      assert.are.same({ "in 1", "in 2", "in 3", "woke 1" }, log)
      assert.are.equal(3, dev:counters().handler_calls)
    end))

    it("swap handlers 20 times under ping -i 0.01: nothing lost, nothing twice", sandboxed(function(ns)
      local dev <close> = tun_dev("ts0", "10.9.6.1", "10.9.6.2")
      local handled = { 0, 0 }
      local function make(i) return function(p, d) if p:echo_reply() then handled[i] = handled[i] + 1; d:write(p) end end end
      local w = dev:on_packet(make(1))
      local swaps = 0
      loop.every(0.1, function(t)
        swaps = swaps + 1
        dev:on_packet(make(swaps % 2 + 1)) -- the same watcher, a new function
        if swaps == 20 then t:stop() end
      end)
      local out
      loop.spawn(function() -- the witness: ping, run by a task (ns:exec on the loop)
        out = select(2, ns:exec { "ping", "-n", "-c", "250", "-i", "0.01", "-W", "1", "10.9.6.2" })
        loop.stop()
      end)
      loop.run { timeout = 20 }
      w:stop()
      assert.are.equal(20, swaps)
      assert.matches("250 packets transmitted, 250 received", out)
      assert.not_matches("DUP", out)
      assert.is_true(handled[1] > 0 and handled[2] > 0)
      assert.are.equal(250, handled[1] + handled[2])
    end))

    it("count per device, and keep the last packets on request", sandboxed(function()
      local dev <close> = tun_dev("tc0", "10.9.8.1", "10.9.8.2")
      assert.are.same({}, dev:recent()) -- off by default
      assert(dev:keep(2, 40))
      local n = 0
      dev:on_packet(function(p, d)
        n = n + 1
        if n == 2 then error("handler fails") end
        echo(p, d)
      end)
      loop.on_error(function() end)
      local ping = H.spawn("ping -n -c 3 -i 0.1 -W 0.5 10.9.8.2")
      H.run_until(function() return n == 3 end) -- the third handled
      local out = ping.wait()
      assert.matches("3 packets transmitted, 2 received", out)
      local c = dev:counters()
      assert.are.equal(3, c.rx_packets)
      assert.are.equal(3 * 84, c.rx_bytes)
      assert.are.equal(2, c.tx_packets)
      assert.are.equal(2 * 84, c.tx_bytes)
      assert.are.equal(3, c.handler_calls)
      assert.are.equal(1, c.handler_errors)
      assert.is_true(c.handler_time > 0 and c.handler_time < 1)
      assert.are.equal(2, c.kept)
      local r = dev:recent()
      assert.are.equal(2, #r)
      assert.are.equal(84, r[1].len)
      assert.are.equal(40, #r[1].packet)          -- cut at snaplen
      assert.are.equal(2, r[1].packet:u16(26))    -- ICMP sequence: the last two
      assert.are.equal(3, r[2].packet:u16(26))
      assert.is_true(r[2].time >= r[1].time)
      assert(dev:keep(0))
      assert.are.same({}, dev:recent())
      assert.has_error(function() dev:keep(-1) end, "bad argument #1 to 'keep' (must be 0..65536)")
    end))

    it("run ns:exec in a task while the loop goes on", sandboxed(function(ns)
      local beats, res = 0, {}
      local hb = loop.every(0.02, function() beats = beats + 1 end)
      loop.spawn(function()
        res[1] = { ns:exec { "sh", "-c", "sleep 0.3; echo out; echo err >&2; exit 3" } }
        res[2] = { ns:exec { "sleep", "5", timeout = 0.1 } }
        res[3] = { ns:exec { "no-such-command-vnet" } }
        hb:stop()
      end)
      loop.run { timeout = 5 }
      assert.are.same({ 3, "out\nerr\n" }, res[1])
      assert.are.same({ nil, "netns.exec sleep: Connection timed out (killed after 0.1 s)", 110, "" }, res[2])
      assert.are.same({ nil, "netns.exec no-such-command-vnet: No such file or directory (command not found)", 2 }, res[3])
      assert.is_true(beats >= 12, "the loop stood still: " .. beats .. " beats")
    end))
  end)
end)
