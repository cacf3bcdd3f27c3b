-- The vnet host binary: a drop-in for the lua5.4 command line, with every
-- module preloaded; scripts leave no device behind, even on Ctrl-C.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local V = H.vnet

local tmpscript = H.tmpscript

describe("the vnet host", function()
  it("runs a script with arg and ... like lua5.4", function()
    local s = tmpscript('print(arg[0] == ..., select("#", ...), ...) print(arg[-1] ~= nil)')
    local out, rc = H.sh(V .. " " .. s .. " a 'b c'")
    os.remove(s)
    assert.are.equal(0, rc)
    assert.are.equal("false\t2\ta\tb c\ntrue\n", out)
  end)

  it("handles -e, -l, -v, -, -- and stdin", function()
    assert.are.same({ "3\n", 0 }, { H.sh(V .. " -e 'print(1+2)'") })
    assert.are.same({ "vnet.packet: 2 bytes\n", 0 },
      { H.sh(V .. " -l p=vnet.packet -e 'print(p.new(2))'") })
    assert.matches("^vnet %d+%.%d+%.%d+ %(Lua 5%.4", (H.sh(V .. " -v")))
    assert.are.same({ "stdin\t4\n", 0 }, { H.sh("echo 'print(\"stdin\", 2*2)' | " .. V .. " -") })
    assert.are.same({ "piped\n", 0 }, { H.sh("echo 'print(\"piped\")' | " .. V) })
    local s = tmpscript("print(...)")
    assert.are.same({ "-x\n", 0 }, { H.sh(V .. " -- " .. s .. " -x") })
    os.remove(s)
  end)

  it("prints what -e returns, as JSON with -j (issue 16)", function()
    assert.are.same({ "3\tx\n", 0 }, { H.sh(V .. " -e 'return 1+2, \"x\"'") })
    assert.are.same({ '[3,"x",{"a":true}]\n', 0 }, { H.sh(V .. " -j -e 'return 1+2, \"x\", {a = true}'") })
    assert.are.same({ '{"b":[1,2]}\n', 0 }, { H.sh(V .. " -e 'x = 1' -j -e 'return {b = {1, 2}}'") })
    local s = tmpscript("return ...")
    assert.are.same({ '["a","b"]\n', 0 }, { H.sh(V .. " -j " .. s .. " a b") })
    assert.are.same({ "", 0 }, { H.sh(V .. " " .. s .. " a b") }) -- a script prints nothing unasked
    os.remove(s)
    assert.are.same({ V .. ": unknown option '-jx'; did you mean '-j'? (" .. V .. " --help)\n", 1 }, { H.sh(V .. " -jx") })
  end)

  it("preloads every module and sets the vnet global", function()
    local out, rc = H.sh(V .. [[ -e 'for _, m in ipairs{"tun","tap","loop","packet","link","netns"} do
      io.write(m, "=", tostring(vnet[m] == require("vnet." .. m)), " ") end'
      ]])
    assert.are.equal(0, rc)
    assert.are.equal("tun=true tap=true loop=true packet=true link=true netns=true ", out)
    -- embedded: works from another directory, with no lua/ tree around
    out, rc = H.sh("cd / && " .. os.getenv("PWD") .. "/" .. V .. " -e 'print(vnet.tun.open ~= nil)'")
    assert.are.same({ "true\n", 0 }, { out, rc })
  end)

  it("lists options and the public modules in --help (issue 16)", function()
    local out, rc = H.sh(V .. " --help")
    assert.are.equal(0, rc)
    for _, want in ipairs { "%-e stat", "%-l mod", "%-i ", "%-j ", "%-v ", "CAP_NET_ADMIN" } do
      assert.matches(want, out)
    end
    -- exactly vnet and the modules the vnet table holds, in order
    local listed = {}
    for name in out:gmatch("\n  (vnet[%w._]*)%f[\n]") do listed[#listed + 1] = name end
    local public = { "vnet" }
    for k, v in pairs(vnet) do
      if type(v) == "table" and package.loaded["vnet." .. k] == v then public[#public + 1] = "vnet." .. k end
    end
    table.sort(public)
    assert.are.same(public, listed)
    for _, internal in ipairs { "vnet.dev", "vnet.build", "vnet._opts", "vnet._repl", "vnet._kinds", "vnet.init" } do
      assert.not_matches(internal:gsub("%p", "%%%0") .. "\n", out)
    end
    assert.is_true(#listed > 20)
  end)

  it("names the closest option in one line for a typo (issue 16)", function()
    local function bad(opt) return { H.sh(V .. " " .. opt .. " -e 'print(1)'") } end
    assert.are.same({ V .. ": unknown option '--sandbx'; did you mean '--sandbox'? (" .. V .. " --help)\n", 1 },
      bad("--sandbx"))
    assert.are.same({ V .. ": unknown option '--hlep'; did you mean '--help'? (" .. V .. " --help)\n", 1 },
      bad("--hlep"))
    assert.are.same({ V .. ": unknown option '-sandbox'; did you mean '--sandbox'? (" .. V .. " --help)\n", 1 },
      bad("-sandbox"))
    assert.are.same({ V .. ": unknown option '--netn'; did you mean '--netns'? (" .. V .. " --help)\n", 1 },
      bad("--netn x"))
    -- nothing close: no guess
    assert.are.same({ V .. ": unknown option '--bogus' (" .. V .. " --help)\n", 1 }, bad("--bogus"))
    assert.are.same({ V .. ": unknown option '-x' (" .. V .. " --help)\n", 1 }, bad("-x"))
    assert.are.same({ V .. ": '-l' needs argument (" .. V .. " --help)\n", 1 }, { H.sh(V .. " -l") })
  end)

  it("exits non-zero with a traceback when a script fails", function()
    local s = tmpscript("local function f() error('it broke') end\nf()\n")
    local out, rc = H.sh(V .. " " .. s)
    os.remove(s)
    assert.are.equal(1, rc)
    assert.matches(":1: it broke", out)
    assert.matches("stack traceback:", out)
    assert.matches("in local 'f'", out)
  end)

  -- bash -m: the background job keeps SIGINT (a plain `sh -c '... &'` would
  -- start it with SIGINT ignored, as POSIX shells do without job control)
  local function interrupt(script, ready_pattern, dev)
    local cmd = string.format([[bash -mc '%s %s > %s.out 2>&1 & pid=$!
      for i in $(seq 100); do grep -q "%s" %s.out && break; sleep 0.05; done
      ip -br link show %s | cut -d" " -f1; kill -INT $pid; wait $pid; echo "rc=$?"
      cat %s.out; ip link show %s 2>&1 | head -1' 2>/dev/null]], V, script, script, ready_pattern, script,
      dev, script, dev)
    local out = H.sh(cmd)
    os.remove(script .. ".out")
    return out
  end

  it("removes the script's devices on Ctrl-C during loop.run", sandboxed(function()
    local s = tmpscript([[
      local dev <close> = assert(vnet.tun.open{name = "cc0"})
      print("ready")
      io.stdout:flush()
      vnet.loop.every(100, function() end)
      print("run returned", vnet.loop.run())
    ]])
    local out = interrupt(s, "ready", "cc0")
    os.remove(s)
    assert.matches("^cc0\n", out)              -- it existed while running
    assert.matches("rc=0\n", out)              -- a clean end
    assert.matches("run returned\ttrue\tSIGINT", out)
    assert.matches('Device "cc0" does not exist', out)
  end))

  it("removes the script's devices on Ctrl-C in plain Lua code", sandboxed(function()
    local s = tmpscript([[
      local dev <close> = assert(vnet.tap.open{name = "cc1"})
      print("ready")
      io.stdout:flush()
      while true do end
    ]])
    local out = interrupt(s, "ready", "cc1")
    os.remove(s)
    assert.matches("^cc1\n", out)
    assert.matches("rc=1\n", out)
    assert.matches("interrupted!", out)
    assert.matches('Device "cc1" does not exist', out)
  end))
end)

describe("scripts/", function()
  it("tun-default.lua makes tun-default, which ip addr shows, and removes it", sandboxed(function()
    local out, rc = H.sh(V .. " scripts/tun-default.lua 1 & sleep 0.5; " ..
      "ip addr add 1.1.1.1 dev tun-default; ip -j addr show dev tun-default; wait")
    assert.are.equal(0, rc, out)
    assert.matches("created tun%-default", out)
    assert.matches('"ifname":"tun%-default","flags":%["POINTOPOINT","MULTICAST","NOARP"%]', out)
    assert.matches('"local":"1.1.1.1","prefixlen":32', out)
    assert.matches("closing tun%-default %(timeout%)", out)
    assert.is_nil(H.iplink("tun-default"))
  end))

  it("icmp-responder.lua answers ping", sandboxed(function()
    local out, rc = H.sh(V .. " scripts/icmp-responder.lua r0 10.9.0.1 10.9.0.2 3 & sleep 0.5; " ..
      "ping -c 3 -i 0.2 -W 1 10.9.0.2; wait")
    assert.are.equal(0, rc, out)
    assert.matches("3 packets transmitted, 3 received", out)
    assert.matches("reply 10.9.0.2 %-> 10.9.0.1 id %d+ seq 3", out)
    assert.is_nil(H.iplink("r0"))
  end))
end)

describe("the rockspec", function()
  it("installs modules that stock lua5.4 can require", function()
    local tree = os.tmpname()
    os.remove(tree)
    local out, rc = H.sh("luarocks --lua-version 5.4 make --tree " .. tree ..
      " rocks/vnet-scm-1.rockspec && rm -f core/*/*.o vnet.so")
    assert.are.equal(0, rc, out)
    out, rc = H.sh('eval "$(luarocks --lua-version 5.4 path --tree ' .. tree .. ')" && ' ..
      [[lua5.4 -e 'local vnet = require "vnet"; print(vnet.version, #vnet.packet.new(3),
        type(vnet.tun.open), type(vnet.loop.run), package.searchpath("vnet", package.cpath) ~= nil)']])
    H.sh("rm -rf " .. tree)
    assert.are.equal(0, rc, out)
    assert.are.equal("0.1.0\t3\tfunction\tfunction\ttrue\n", out)
  end)
end)
