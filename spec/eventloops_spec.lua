-- Other event loops (issue 16 item 5): vnet.loop driven from outside
-- (fileno, step, timeout), cqueues' polling protocol on devices and
-- watches, and the luv and cqueues examples of docs/event-loops.md, run as
-- written.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local loop = vnet.loop
local HERE = "spec/eventloops_spec.lua"

local has_luv, uv = pcall(require, "luv")
local has_cq, cqueues = pcall(require, "cqueues")
local NO_LUV = "lua-luv is not installed for Lua 5.4 (sh tools/deps.sh installs it)"
local NO_CQ = "lua-cqueues is not installed for Lua 5.4 (sh tools/deps.sh installs it)"

-- fn raises msg, at the line where fn is defined in this file
local function at(fn, msg)
  local line = debug.getinfo(fn, "S").linedefined
  local ok, e = pcall(fn)
  assert.is_false(ok)
  assert.are.equal(HERE .. ":" .. line .. ": " .. msg, e)
end

-- Is fd readable now? Asked of libuv (one non-blocking turn of its loop),
-- not of vnet.
local function readable(fd)
  local p, r = uv.new_poll(fd), false
  p:start("r", function() r = true; p:stop() end)
  uv.run("nowait")
  p:close()
  uv.run("nowait")
  return r
end

describe("vnet.loop driven from another loop", function()
  after_each(function()
    assert.are.equal(0, loop.active(), "a spec left a watcher running")
    loop.on_error(nil)
  end)

  it("has an epoll fd (fileno, pollfd) and events 'r'", function()
    local fd = loop.fileno()
    assert.is_true(math.type(fd) == "integer" and fd >= 0)
    assert.are.equal(fd, loop.pollfd())
    assert.are.equal("r", loop.events())
    -- the kernel's word for what the fd is
    local link = H.sh("readlink /proc/" .. H.mypid() .. "/fd/" .. fd)
    assert.are.equal("anon_inode:[eventpoll]\n", link)
  end)

  it("step() with nothing to do returns 0, 0 at once, and timeout() is nil", function()
    local t0 = loop.now()
    assert.are.same({ 0, 0 }, { loop.step() })
    assert.are.same({ 0, 0 }, { loop.step(0) })
    assert.is_true(loop.now() - t0 < 0.05)
    assert.is_nil(loop.timeout())
    assert.are.equal(1, select("#", loop.timeout()))
  end)

  it("steps timers: timeout() says when, the fd is readable when they are due", function()
    if not has_luv then return H.skip(NO_LUV) end
    local fired = 0
    loop.after(0.1, function() fired = fired + 1 end)
    local left = loop.timeout()
    assert.is_true(left > 0.05 and left <= 0.1, tostring(left))
    assert.is_false(readable(loop.fileno()))
    assert.are.same({ 0, 1 }, { loop.step() }) -- not due: nothing runs, no wait
    assert.are.equal(0, fired)
    local t0 = loop.now()
    assert.are.same({ 1, 0 }, { loop.step(2) }) -- waits for it, no longer
    local waited = loop.now() - t0
    assert.is_true(waited > 0.03 and waited < 1, tostring(waited))
    assert.are.equal(1, fired)
    assert.is_nil(loop.timeout())
    -- due but not yet run: timeout 0, and the fd says so
    local e = loop.every(0.01, function() fired = fired + 1 end)
    os.execute("sleep 0.03")
    assert.are.equal(0, loop.timeout())
    assert.is_true(readable(loop.fileno()))
    assert.are.same({ 1, 1 }, { loop.step() })
    assert.are.equal(2, fired) -- every: one call per wake-up, however late
    e:stop()
  end)

  it("advances tasks: spawn, sleep and a plain yield resume under step()", function()
    local trail = {}
    local t = loop.spawn(function()
      trail[#trail + 1] = "started"
      coroutine.yield()
      trail[#trail + 1] = "yielded"
      loop.sleep(0.05)
      trail[#trail + 1] = "slept"
    end)
    assert.are.equal(0, loop.timeout()) -- its first turn is due
    local steps = 0
    local seen = {}
    local t0 = loop.now()
    while t.status ~= "done" and loop.now() - t0 < 10 do
      local to = loop.timeout()
      local n, active, how = assert(loop.step(to or 1))
      seen[#seen + 1] = string.format("%s:%s,%s,%s,%s", tostring(to), tostring(n), tostring(active), tostring(how), t.status)
      steps = steps + 1
    end
    assert.are.same({ "started", "yielded", "slept" }, trail, table.concat(seen, " "))
    assert.are.equal("done", t.status)
    -- a few turns; under the full-kernel lane's emulation a wait may end
    -- early (its clock is coarse), so there only that it finished counts
    assert.is_true(steps <= (os.getenv("VNET_LANE") == "kernel" and 200 or 5), "steps: " .. steps)
    assert.are.same({ 0, 0 }, { loop.step() })
  end)

  it("runs on_packet handlers: a ping answered across a TUN, step by step", sandboxed(function()
    local tun <close> = assert(vnet.tun.open { name = "stp0" })
    assert(tun:addr_add("10.77.0.1", { peer = "10.77.0.2" }))
    assert(tun:up())
    local answered = 0
    tun:on_packet(function(p, dev)
      if p:echo_reply() then dev:write(p); answered = answered + 1 end
    end)
    local mode, _, calls0, ops0 = vnet.tun.io_batching()
    local ping = H.spawn("ping -c2 -i0.2 -W2 10.77.0.2")
    local deadline = loop.now() + 5
    while answered < 2 and loop.now() < deadline do assert(loop.step(0.5)) end
    local out = ping:wait()
    assert.matches("2 packets transmitted, 2 received", out)
    assert.are.equal(2, answered)
    -- a step drives the loop's batched reads and writes as run() does
    local _, _, calls1, ops1 = vnet.tun.io_batching()
    assert.are.equal(mode, tun.io)
    if mode == "io_uring" then
      assert.is_true(calls1 > calls0 and ops1 - ops0 >= 4,
        string.format("%d operations in %d io_uring calls", ops1 - ops0, calls1 - calls0))
    else
      assert.are.equal(calls0, calls1)
    end
    tun:close()
  end))

  it("returns 'stopped' when a callback calls loop.stop()", function()
    local later = false
    loop.after(0, function() loop.stop() end)
    assert.are.same({ 1, 0, "stopped" }, { loop.step(1) })
    loop.after(0, function() later = true end) -- the next step runs again
    assert.are.same({ 1, 0 }, { loop.step(1) })
    assert.is_true(later)
  end)

  it("returns a callback's error with its traceback, or hands it to on_error", function()
    loop.after(0, function() error("boom in a stepped timer") end)
    local ok, msg = loop.step(1)
    assert.is_nil(ok)
    assert.matches("^" .. HERE .. ":%d+: boom in a stepped timer\nstack traceback:", msg)
    local got
    loop.on_error(function(m) got = m end)
    loop.after(0, function() error("boom again") end)
    assert.are.same({ 1, 0 }, { loop.step(1) })
    assert.matches("boom again", got)
  end)

  it("refuses a step inside run(), a callback or a task, at the caller's line", function()
    local msg = "loop.step: the loop is already turning (inside loop.run, a callback or " ..
      "the REPL's wait); step() is for driving it from another event loop"
    local line
    loop.after(0, function()
      line = debug.getinfo(1, "l").currentline; loop.step()
    end)
    local ok, err = loop.run { timeout = 2 }
    assert.is_nil(ok)
    assert.are.equal(HERE .. ":" .. line .. ": " .. msg, err:match("^[^\n]*"))
    -- a task stepped from outside cannot step either
    local terr
    loop.spawn(function()
      local _, e = pcall(function() loop.step() end)
      terr = e
    end)
    assert(loop.step(1))
    assert.matches("^" .. HERE .. ":%d+: loop%.step: the loop is already turning", terr)
  end)

  it("refuses bad timeouts at the caller's line", function()
    at(function() loop.step(-1) end, "loop.step: timeout must be 0 or more seconds (got -1)")
    at(function() loop.step(-0.5) end, "loop.step: timeout must be 0 or more seconds (got -0.5)")
    at(function() loop.step(0 / 0) end, "loop.step: timeout must be 0 or more seconds (got nan)")
    at(function() loop.step("1") end, "loop.step: timeout must be a number of seconds (got string)")
    at(function() loop.step({}) end, "loop.step: timeout must be a number of seconds (got table)")
  end)
end)

describe("cqueues' polling protocol on vnet objects", function()
  it("devices: pollfd is fileno, events 'r', no timeout; closed ones raise", sandboxed(function()
    local tun = assert(vnet.tun.open { name = "cqp0" })
    assert.are.equal(tun:fileno(), tun:pollfd())
    assert.are.same({ "r" }, { tun:events() })
    assert.are.equal(1, select("#", tun:timeout()))
    assert.is_nil(tun:timeout())
    tun:close()
    at(function() return tun:fileno() end, "attempt to use a closed tun")
    at(function() return tun:pollfd() end, "attempt to use a closed tun")
    at(function() return tun:events() end, "attempt to use a closed tun")
    at(function() return tun:timeout() end, "attempt to use a closed tun")
  end))

  it("packet sockets: the ring's timeout is the field block_timeout", sandboxed(function()
    local s <close> = assert(vnet.psock.open("lo", { timeout = 0.02 }))
    assert.are.equal(0.02, s.block_timeout)
    assert.are.equal(s:fileno(), s:pollfd())
    assert.are.equal("r", s:events())
    assert.is_nil(s:timeout())
    assert.are.equal("function", type(s.timeout)) -- a method, as cqueues reads it
  end))

  it("link watches: pollfd, events, timeout; a stopped one raises", sandboxed(function()
    local w = assert(vnet.link.watch(function() end))
    assert.are.equal(w:fileno(), w:pollfd())
    assert.are.equal("r", w:events())
    assert.is_nil(w:timeout())
    w:stop()
    at(function() w:pollfd() end, "attempt to use a closed watch")
    at(function() w:events() end, "attempt to use a closed watch")
  end))

  it("cqueues.poll(tun) waits for the packet ping sends", sandboxed(function()
    if not has_cq then return H.skip(NO_CQ) end
    local tun <close> = assert(vnet.tun.open { name = "cqp1" })
    local cq = cqueues.new()
    local idle, echo, polls, ping = "not run", nil, 0, nil
    cq:wrap(function()
      idle = cqueues.poll(tun, 0.05) -- down: nothing comes; the timeout is
      -- what poll hands back
      assert(tun:addr_add("10.78.0.1", { peer = "10.78.0.2" }))
      assert(tun:up())
      ping = H.spawn("sleep 0.2; ping -c1 -W1 10.78.0.2")
      local deadline = cqueues.monotime() + 5
      while not echo and cqueues.monotime() < deadline do
        if cqueues.poll(tun, 1) == tun then
          polls = polls + 1
          for p in function() return tun:read() end do
            -- what ping sent: IPv4 ICMP echo request to the peer (the
            -- kernel may send others first, IPv6 ones)
            if p:u8(0) >> 4 == 4 and p:u8(9) == 1 and p:u8((p:u8(0) & 15) * 4) == 8 then
              echo = p:copy()
            end
          end
        end
      end
    end)
    assert(cq:loop())
    ping:wait()
    assert.are.equal(0.05, idle)
    assert.is_true(polls >= 1 and polls <= 5, "polls: " .. polls)
    assert(echo, "no echo request came out of the TUN")
    assert.are.equal(0x0a4e0002, echo:u32(16))
  end))
end)

describe("docs/event-loops.md", function()
  H.keeps_host_state(setup, teardown)

  local f = assert(io.open("docs/event-loops.md"))
  local doc = f:read("a")
  f:close()
  local blocks = {}
  for block in doc:gmatch("\n```lua\n(.-\n)```") do blocks[#blocks + 1] = block end

  it("has the three examples", function()
    assert.are.equal(3, #blocks)
    assert.matches('require "luv"', blocks[1])
    assert.matches('require "luv"', blocks[2])
    assert.matches('require "cqueues"', blocks[3])
  end)

  -- Run example i as written with cmd (the vnet host by default); its output.
  local function run(i, cmd)
    local path = H.tmpscript(blocks[i])
    local out, rc = H.sh((cmd or H.vnet) .. " " .. path)
    os.remove(path)
    assert.are.equal(0, rc, out)
    -- what it made went with it: nothing here but lo
    local links = assert(H.ip("link show"))
    assert.are.equal(1, #links)
    assert.are.equal("lo", links[1].ifname)
    return out
  end

  it("luv polls a TUN device and answers pings", sandboxed(function()
    if not has_luv then return H.skip(NO_LUV) end
    local out = run(1)
    assert.matches("ping exited 0; the luv callback answered 3\n", out)
    assert.matches("3 packets transmitted, 3 received, 0%% packet loss", out)
    assert.are.equal(3, select(2, out:gsub("64 bytes from 10%.7%.0%.2: icmp_seq=%d", "")))
  end))

  it("luv drives vnet.loop: on_packet, a link watch and a task all run", sandboxed(function()
    if not has_luv then return H.skip(NO_LUV) end
    local out = run(2)
    assert.matches("ping exited 0; a vnet task slept 0.1 s\n", out)
    assert.matches("link events: [^\n]*change %(up%)", out)
    assert.matches("on_packet answered 3\n", out)
    assert.matches("3 packets transmitted, 3 received, 0%% packet loss", out)
  end))

  it("cqueues polls the TUN and runs vnet.loop in its controller", sandboxed(function()
    if not has_cq then return H.skip(NO_CQ) end
    local out = run(3)
    assert.matches("^a cqueues coroutine answered 3\nping exited 0\n", out)
    assert.matches("3 packets transmitted, 3 received, 0%% packet loss", out)
  end))

  it("the cqueues example runs in stock lua5.4 too (build/lib/vnet.so)", sandboxed(function()
    if not has_cq then return H.skip(NO_CQ) end
    if select(2, H.sh("command -v lua5.4")) ~= 0 then return H.skip("no lua5.4 here") end
    local out = run(3, "LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/lib/?.so;;' lua5.4")
    assert.matches("^a cqueues coroutine answered 3\nping exited 0\n", out)
    assert.matches("3 packets transmitted, 3 received", out)
  end))
end)
