-- repl_live_spec.lua: the live REPL of issue 12 -- the prompt waits on the
-- event loop, so handlers answer, tasks run and handlers are swapped while
-- it waits. Each test runs build/vnet in tmux (spec/support/term.lua)
-- inside a fresh namespace; the REPL puts its TUN in a named namespace of
-- its own, from which ping (the witness) sends.
local H = require "spec.helper"
local T = require "spec.support.term"
local run, sh_quote, Term = T.run, T.sh_quote, T.Term

local NAME = "vnrepl" .. H.mypid()
local SETUP = [[
ns = assert(vnet.netns.create(%q))
dev = ns:run(function()
  assert(io.open("/proc/sys/net/ipv6/conf/default/disable_ipv6", "w")):write("1"):close()
  assert(vnet.link.set("lo", { up = true }))
  local d = assert(vnet.tun.open { name = "rt0" })
  assert(d:addr_add("10.9.7.1", { peer = "10.9.7.2" }))
  assert(d:up())
  return d
end)
]]
local RESPOND = "dev:on_packet(function(p, d) if p:echo_reply() then d:write(p) end end)"

-- s as a Lua pattern that matches it literally
local function lit(s)
  return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"))
end

-- type a line that sets a handler; wait until it is set (after this very
-- line: the screen may still show an earlier one's result)
local function handler(term, line)
  term:line(line)
  term:wait(lit(line) .. "\nvnet%.watcher: packet\nvnet>%s*$")
end

-- `ping` from the REPL's namespace, through its TUN, to the handler
local function ping(args)
  return run("ip netns exec " .. NAME .. " ping -n " .. args .. " 10.9.7.2")
end

-- body() while a ping flood from the REPL's namespace keeps the loop
-- dispatching; the ping is killed after, whatever body did
local function flooded(body)
  local pid = assert(run("ip netns exec " .. NAME .. " ping -n -q -f -w 60 10.9.7.2 "
    .. ">/dev/null 2>&1 & echo $!"):match("%d+"), "no ping")
  local ok, err = pcall(body)
  run("kill " .. pid)
  assert(ok, err)
end

-- the pid of the vnet a Term runs
local function vnet_pid(term)
  local shell = term:tmux("display -p -t vnet '#{pane_pid}'"):match("%d+")
  return assert(run("pgrep -P " .. shell .. " -x vnet"):match("%d+"), "no vnet process")
end

-- body(term) at a REPL whose SETUP has run; `ends`: the body ends vnet
local function live(body, ends)
  return H.sandboxed(function()
    if not run("command -v tmux"):find("tmux") then
      error("these tests need tmux (tools/deps.sh installs it)")
    end
    local setup = os.tmpname()
    local f = assert(io.open(setup, "w"))
    f:write(SETUP:format(NAME))
    f:close()
    local term = Term.start({ VNET_HISTORY = "" })
    local ok, err = pcall(function()
      term:line("dofile(" .. ("%q"):format(setup) .. ")")
      term:wait("vnet> dofile%b()\nvnet>%s*$")
      body(term)
      T.sleep(0.1)
      if not ends then assert.not_matches("%[exit=", term:screen()) end
    end)
    term:close()
    os.remove(setup)
    run("ip netns del " .. sh_quote(NAME))
    assert(ok, err)
  end)
end

describe("the live REPL (issue 12)", function()
  it("answers pings while the prompt is idle and while a line is half typed", live(function(term)
    handler(term, RESPOND)
    local out = ping("-c 3 -i 0.2 -W 1")
    assert.matches("3 packets transmitted, 3 received", out)
    term:type("half = 'typed")
    term:wait("vnet> half = 'typed$")
    out = ping("-c 3 -i 0.2 -W 1")
    assert.matches("3 packets transmitted, 3 received", out)
    term:wait("vnet> half = 'typed$") -- the half line is still there
    term:type(" line'")
    term:key("Enter")
    term:line("half")
    term:wait('\n"typed line"\nvnet>%s*$')
    term:line("dev:counters().tx_packets, dev:counters().handler_calls")
    term:wait("\n6%s+6\nvnet>%s*$")
  end))

  it("swaps the handler at the prompt: the next reply comes from the new one", live(function(term)
    handler(term, RESPOND)
    assert.matches("ttl=64", (ping("-c 1 -W 1")))
    handler(term, "dev:on_packet(function(p, d) if p:echo_reply() then "
      .. "p:set_u8(8, 7); p:fix_checksums(); d:write(p) end end)")
    local out = ping("-c 2 -i 0.2 -W 1")
    assert.matches("ttl=7 ", out)
    assert.not_matches("ttl=64", out)
    assert.matches("2 received", out)
    term:line("#vnet.loop.watchers()")
    term:wait("\n1\nvnet>%s*$") -- the same watcher, swapped
  end))

  it("reload swaps the handlers of an edited file; its state survives", live(function(term)
    local file = os.tmpname()
    local function write(ttl)
      assert(io.open(file, "w")):write(([[
seen = seen or 0
dev:on_packet(function(p, d)
  if p:echo_reply() then seen = seen + 1; p:set_u8(8, %d); p:fix_checksums(); d:write(p) end
end)
return "loaded"
]]):format(ttl)):close()
    end
    local ok, err = pcall(function()
      write(9)
      term:line(("reload(%q)"):format(file))
      term:wait('\n"loaded"\nvnet>%s*$')
      assert.matches("ttl=9 ", (ping("-c 1 -W 1")))
      write(5)
      term:line("reload()") -- the file reloaded last
      term:wait('\nvnet> reload%(%)\n"loaded"\nvnet>%s*$')
      assert.matches("ttl=5 ", (ping("-c 1 -W 1")))
      term:line("seen, #vnet.loop.watchers()")
      term:wait("\n2%s+1\nvnet>%s*$")
      term:line("reload(42)")
      term:wait("\nreload: expected a file name %(got number%)\n") -- a tail call: no line
    end)
    os.remove(file)
    assert(ok, err)
  end))

  it("shows what handlers print above the prompt, the typed line intact", live(function(term)
    handler(term, "dev:on_packet(function(p, d) if p:echo_reply() then "
      .. "print('seq', p:u16(26)); d:write(p) end end)")
    term:type("local x = 'unfinished")
    term:wait("vnet> local x = 'unfinished$")
    ping("-c 2 -i 0.2 -W 1")
    term:wait("\nseq%s+1\nseq%s+2\nvnet> local x = 'unfinished$")
  end))

  it("runs a task that waits for a packet with a timeout, then sleeps", live(function(term)
    term:line("t = vnet.loop.spawn(function() print('first', dev:wait_packet(0.3)); "
      .. "local p = dev:wait_packet(30); print('got proto', p:u8(9)); "
      .. "vnet.loop.sleep(0.3); print('slept') end)")
    term:wait("\nfirst%s+nil%s+timeout\nvnet>%s*$") -- the task printed it
    term:line("t")
    -- (a long timeout: under qemu's TCG typing "t" can take seconds)
    term:wait("\nvnet%.task 1 %(stdin:1%): waiting for a packet on rt0 %(timeout 30s%)\nvnet>%s*$")
    ping("-c 1 -W 0.2")
    term:wait("\ngot proto%s+1\n") -- ("slept" may follow at once on a slow machine)
    term:wait("\nslept\nvnet>%s*$")
    term:line("t.status, #vnet.loop.tasks()")
    term:wait('\n"done"%s+0\nvnet>%s*$')
  end))

  it("runs ns:exec in a task while the responder keeps answering", live(function(term)
    handler(term, RESPOND)
    term:line("beats = 0; hb = vnet.loop.every(0.05, function() beats = beats + 1 end)")
    term:wait("beats %+ 1 end%)\nvnet>%s*$")
    term:line("vnet.loop.spawn(function() local st, out = ns:exec{'ping', '-n', '-c', '4', "
      .. "'-i', '0.2', '10.9.7.2'}; hb:stop(); print('exec', st, out:match('%d+ received')) end)")
    local out = ping("-c 3 -i 0.2 -W 1") -- a second witness at the same time
    assert.matches("3 received", out)
    term:wait("\nexec%s+0%s+4 received\nvnet>%s*$")
    term:line("beats >= 10")
    term:wait("\ntrue\nvnet>%s*$")
  end))

  it("clears the line on Ctrl-C and the handlers go on", live(function(term)
    handler(term, RESPOND)
    term:type("this goes")
    term:wait("vnet> this goes$")
    term:key("C-c")
    term:wait("vnet> this goes%^C\nvnet>%s*$")
    assert.matches("3 received", (ping("-c 3 -i 0.2 -W 1")))
    term:line("1+1")
    term:wait("\n2\nvnet>%s*$")
  end))

  it("breaks a handler stuck in a loop on Ctrl-C, drops it, the half line intact (issue 12)",
    live(function(term)
    handler(term, "dev:on_packet(function() while true do end end)")
    term:type("x = 4")
    term:wait("vnet> x = 4$")
    ping("-c 1 -W 1") -- the handler gets it, and loops
    T.sleep(0.2)
    term:key("C-c")
    term:wait("\ninterrupted by Ctrl%-C: the handler is dropped %(set it again to restart it%)\n"
      .. "stack traceback:\n.-\nvnet> x = 4$")
    term:type("2")
    term:key("Enter")
    term:line("x, #vnet.loop.watchers()")
    term:wait("\n42%s+0\nvnet>%s*$") -- the line ran; the handler is gone
    term:type("this goes") -- a second Ctrl-C, at the idle prompt: clears the line
    term:wait("vnet> this goes$")
    term:key("C-c")
    term:wait("vnet> this goes%^C\nvnet>%s*$")
    handler(term, RESPOND) -- set again, it answers
    assert.matches("2 received", (ping("-c 2 -i 0.2 -W 1")))
  end))

  it("leaves a busy handler that returns by itself alone on Ctrl-C: the line is cleared",
    live(function(term)
    handler(term, "dev:on_packet(function(p, d) local t = vnet.loop.now() + 0.1; "
      .. "while vnet.loop.now() < t do end; if p:echo_reply() then d:write(p) end end)")
    run("(ip netns exec " .. NAME .. " ping -n -c 15 -i 0.1 -W 1 10.9.7.2 >/dev/null 2>&1 &)")
    T.sleep(0.5) -- the handler runs nearly all the time now
    term:type("this goes")
    term:wait("vnet> this goes$")
    term:key("C-c")
    term:wait("vnet> this goes%^C\nvnet>%s*$")
    T.sleep(1.5)
    term:line("#vnet.loop.watchers(), dev:counters().handler_errors")
    term:wait("\n1%s+0\nvnet>%s*$")
  end))

  it("takes every Ctrl-C while a flood keeps the loop dispatching: none is lost",
    live(function(term)
    handler(term, RESPOND)
    -- a Ctrl-C that lands between two handler calls (the loop reading or
    -- writing packets) must still end the wait for a key
    flooded(function()
      for i = 1, 25 do
        term:type("gone" .. i)
        term:wait("vnet> gone" .. i .. "$")
        term:key("C-c")
        term:wait("vnet> gone" .. i .. "%^C\nvnet>%s*$")
      end
    end)
    term:line("#vnet.loop.watchers(), dev:counters().handler_errors, "
      .. "dev:counters().handler_calls > 1000")
    term:wait("\n1%s+0%s+true\nvnet>%s*$")
  end))

  it("ends the session on SIGTERM while a flood keeps the loop dispatching: undone, exit 143",
    live(function(term)
    handler(term, RESPOND)
    flooded(function()
      T.sleep(0.5)
      term:line("dev:counters().handler_calls > 0")
      term:wait("\ntrue\nvnet>%s*$") -- the flood is answered
      term:type("half typed")
      run("kill -TERM " .. vnet_pid(term))
      term:wait("\n%[exit=143%]")
      assert.not_matches(NAME, (run("ip netns list"))) -- the session undid it
    end)
  end, true))

  for _, sig in ipairs { { "TERM", 15 }, { "HUP", 1 } } do
    it("ends the session on SIG" .. sig[1] .. " at the idle prompt: undone, exit " .. 128 + sig[2],
      H.sandboxed(function()
      local term = Term.start({ VNET_HISTORY = "" })
      local ok, err = pcall(function()
        term:line('a = assert(vnet.veth.create("vnsigA", "vnsigB")); '
          .. 'n = assert(vnet.netns.create("vnsig' .. H.mypid() .. '")); print("made")')
        term:wait("\nmade\nvnet>%s*$")
        term:line("vnet.session.guardian() ~= nil")
        term:wait("\ntrue\nvnet>%s*$")
        term:type("half typed")
        term:wait("vnet> half typed$")
        local pid = vnet_pid(term)
        run("kill -" .. sig[1] .. " " .. pid)
        term:wait("\n%[exit=" .. 128 + sig[2] .. "%]")
        assert.not_matches("stack traceback", term:screen())
        assert.matches("does not exist", (run("ip link show vnsigA")))
        assert.not_matches("vnsig" .. H.mypid(), (run("ip netns list")))
        assert.equal("", (run("pgrep -x vnet-guardian -P " .. pid)))
        -- the terminal is as it was: the shell echoes what is typed
        term:type("echo back")
        term:wait("echo back$")
      end)
      term:close()
      run("ip link del vnsigA 2>/dev/null; ip netns del vnsig" .. H.mypid() .. " 2>/dev/null")
      assert(ok, err)
    end))
  end

  it("still runs vnet.loop.run() typed at the prompt, until Ctrl-C", live(function(term)
    handler(term, RESPOND)
    term:line("vnet.loop.run()")
    T.sleep(0.3)
    assert.matches("3 received", (ping("-c 3 -i 0.2 -W 1")))
    term:key("C-c")
    term:wait('\nvnet> vnet%.loop%.run%(%)\n.-true%s+"SIGINT"\nvnet>%s*$')
    assert.matches("2 received", (ping("-c 2 -i 0.2 -W 1"))) -- and at the prompt again
  end))

  it("reports a task's error with its traceback and goes on", live(function(term)
    term:line("t = vnet.loop.spawn(function() local c <close> = setmetatable({}, "
      .. "{ __close = function() print('released') end }); vnet.loop.sleep(0.1); error('boom') end)")
    -- its to-be-closed variable is closed, then the error shows
    term:wait("\nreleased\ntask 1 %(stdin:1%): stdin:1: boom\nstack traceback:\n.-\nvnet>%s*$")
    term:line("t.status, #vnet.loop.tasks()")
    term:wait('\n"failed"%s+0\nvnet>%s*$')
    term:line("vnet.loop.sleep(1)")
    -- (a tail call at the prompt, "return <line>", leaves no line to point at)
    term:wait("\nloop%.sleep: not inside a task %(start one with vnet%.loop%.spawn%(fn%); "
      .. "loop callbacks may wait too%)\n")
    term:line("x = vnet.loop.spawn(42)")
    term:wait("\nstdin:1: loop%.spawn: expected a function %(got number%)\n")
  end))
end)

-- README.md's live REPL transcript, typed line by line; every output line
-- it shows must come out (white space compared loosely: tabs show as
-- spaces on the screen).
describe("README.md's live REPL transcript", function()
  local function transcript()
    local f = assert(io.open("README.md"))
    local text = f:read("a")
    f:close()
    local block = assert(text:match("<!%-%- repl transcript[^\n]*\n```\n(.-)\n```"),
      "README.md has no repl transcript block")
    local steps = {}
    for line in (block .. "\n"):gmatch("(.-)\n") do
      local input = line:match("^vnet> (.*)$")
      if input then steps[#steps + 1] = { input = input, out = {} }
      elseif steps[#steps] then table.insert(steps[#steps].out, line) end
    end
    return block, steps
  end

  local function loose(s)
    return (lit(s):gsub("%s+", "%%s+"))
  end

  it("replays, with the results it shows", H.sandboxed(function()
    local block, steps = transcript()
    assert.matches("^%$ sudo vnet %-%-sandbox\n", block)
    assert.is_true(#steps >= 8)
    local term = Term.start({ VNET_HISTORY = "" }, "--sandbox")
    local ok, err = pcall(function()
      for _, step in ipairs(steps) do
        term:line(step.input)
        local want = "vnet> " .. step.input .. "\n" .. table.concat(step.out, "\n")
        term:wait(loose(want) .. (#step.out > 0 and "\n" or "") .. "vnet>%s*$")
      end
    end)
    term:close()
    assert(ok, err)
  end))
end)
