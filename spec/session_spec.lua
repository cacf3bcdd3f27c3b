-- vnet.session: what a session makes is undone, newest first, however the
-- session ends (issue 11). Witnesses: ip -j link, ip netns, mountinfo, ps.
local H = require "spec.helper"

-- The script of the kill matrix: a named namespace, a bridge in it, 50
-- veths (one end on the bridge), a macvlan on each other end, addresses
-- and routes. It prints "start <guardian pid>" when it has begun and
-- "built" at the end of the build; with "loop" it then runs the loop.
local BUILD = [[
local ns = assert(vnet.netns.create(arg[1]))
local br = assert(vnet.bridge.create { name = "br0", netns = ns })
io.stdout:write("start ", vnet.session.guardian(), "\n"); io.stdout:flush()
local function busy(s) local t = vnet.loop.now() + s; while vnet.loop.now() < t do end end
for i = 1, 50 do
  local a, b = assert(vnet.veth.create("v" .. i, "p" .. i, { peer_netns = ns, up = true }))
  ns:run(function() assert(vnet.link.set(b, { master = "br0" })) end)
  assert(vnet.macvlan.create { name = "m" .. i, link = a, mode = "bridge" })
  assert(a:addr_add("10.1." .. i .. ".1/24"))
  assert(vnet.route.add { dst = "10.2." .. i .. ".0/24", via = "10.1." .. i .. ".2" })
  busy(0.004)
end
io.stdout:write("built\n"); io.stdout:flush()
if arg[2] == "loop" then
  vnet.loop.every(0.01, function() end)
  vnet.loop.run { timeout = 30 }
end
]]

-- What is left in the current namespace: links but lo, named namespaces,
-- mounts under /run/netns.
local function leftovers(nsname)
  local out = {}
  for _, l in ipairs(H.ip("link show") or {}) do
    if l.ifname ~= "lo" then out[#out + 1] = "link " .. l.ifname end
  end
  if H.sh("ip netns list"):find(nsname, 1, true) then out[#out + 1] = "netns " .. nsname end
  for line in io.lines("/proc/self/mountinfo") do
    if line:find("/run/netns/" .. nsname, 1, true) then out[#out + 1] = "mount " .. nsname end
  end
  return table.concat(out, ", ")
end

local function gone(pid)
  return H.eventually(function()
    return not pid or H.sh("kill -0 " .. pid .. " 2>/dev/null; echo $?"):match("%d+") ~= "0"
  end) or false
end

-- Run the build script, send sig after it started plus delay seconds (or
-- after "built" plus delay when mode is "loop"); returns status, output.
local function run_and_kill(script, nsname, mode, sig, delay)
  local out = os.tmpname()
  local cmd = string.format([[
%s %s %s %s > %s 2>&1 & pid=$!
n=0; until grep -q '%s' %s || [ $n -gt 400 ]; do n=$((n+1)); sleep 0.01; done
sleep %.3f; kill -%s $pid; wait $pid; echo "status=$?"]],
    H.vnet, script, nsname, mode, out, mode == "loop" and "built" or "start", out, delay, sig)
  local res = H.sh(cmd)
  local f = io.open(out); local text = f and f:read("a") or ""; if f then f:close() end
  os.remove(out)
  return tonumber(res:match("status=(%d+)")), text
end

describe("vnet.session", function()
  describe("the kill matrix (issue 11)", function()
    local script
    setup(function() script = H.tmpscript(BUILD) end)
    teardown(function() os.remove(script) end)
    for _, sig in ipairs { "INT", "TERM", "HUP", "KILL" } do
      for _, mode in ipairs { "build", "loop" } do
        it("leaves nothing after SIG" .. sig .. " during the " .. mode .. ", 10 times", H.sandboxed(function()
          for round = 1, 10 do
            local name = "own-kill-" .. sig .. round
            local delay = mode == "build" and math.random() * 0.2 or math.random() * 0.1
            local status, out = run_and_kill(script, name, mode, sig, delay)
            assert.is_not_nil(status, out)
            local gpid = out:match("start (%d+)")
            assert.is_not_nil(gpid, "no guardian reported: " .. out)
            assert.is_true(gone(gpid), "the guardian " .. gpid .. " is still running")
            assert.are.equal("", leftovers(name),
              string.format("round %d, delay %.3f s, status %d: %s", round, delay, status, out))
          end
        end))
      end
    end
  end)

  describe("each way of ending", function()
    local ways = {
      exit = "", error = "error('boom')", os_exit = "os.exit(3)",
      TERM = "os.execute('kill -TERM ' .. io.open('/proc/self/stat'):read('n')); while true do end",
      KILL = "os.execute('kill -KILL ' .. io.open('/proc/self/stat'):read('n'))",
    }
    local kinds = {
      { "veth", { peer = "kpeer" } }, { "bridge", {} }, { "macvlan", { link = "kpeer" } },
      { "macvtap", { link = "kpeer", mode = "bridge" } }, { "ipvlan", { link = "kpeer" } },
      { "ipvtap", { link = "kpeer" } }, { "vlan", { link = "kpeer", id = 5 } },
      { "vxlan", { id = 5, remote = "10.0.0.1", dstport = 4789 } },
      { "geneve", { id = 6, remote = "10.0.0.2" } }, { "dummy", {} }, { "ifb", {} },
      { "bond", {} }, { "gre", { remote = "10.0.0.3" } }, { "gretap", { remote = "10.0.0.4" } },
      { "ipip", { remote = "10.0.0.5" } }, { "sit", { remote = "10.0.0.6" } },
      { "ip6tnl", { remote = "fd00::1" } }, { "vti", { remote = "10.0.0.7" } },
      { "vrf", { table = 10 } },
    }
    for _, k in ipairs(kinds) do
      it("undoes a " .. k[1] .. " whatever ends the session", H.sandboxed(function()
        local o = { name = "k" .. k[1]:sub(1, 6) }
        for a, b in pairs(k[2]) do o[a] = b end
        if k[1] ~= "veth" and k[1] ~= "bridge" and o.link then
          assert(vnet.veth.create("kpeer", "kpeer2"))
        end
        local l, err = vnet[k[1]].create(o)
        if not l and err:find("no '" .. k[1] .. "' support", 1, true) then
          vnet.link.delete("kpeer")
          return H.skip("this kernel has no " .. k[1] .. " (" .. err .. ")")
        end
        assert.is_truthy(l, err)
        assert(vnet.link.delete(l))
        for way, tail in pairs(ways) do
          local src = "local o = ...\nlocal l = assert(vnet." .. k[1] .. ".create(" ..
            "{" .. (function()
              local parts = {}
              for a, b in pairs(o) do parts[#parts + 1] = a .. "=" .. string.format("%q", b) end
              return table.concat(parts, ",")
            end)() .. "}))\nio.stdout:write('made\\n') io.stdout:flush()\n" .. tail .. "\n"
          local s = H.tmpscript(src)
          local out = H.sh(H.vnet .. " " .. s)
          os.remove(s)
          assert.matches("made", out)
          H.eventually(function() return not H.iplink(o.name) end) -- after KILL, the guardian's work
          assert.is_nil(H.iplink(o.name), way .. ": " .. out)
        end
        if o.link then assert(vnet.link.delete("kpeer")) end
      end))
    end
  end)

  describe("in the session", function()
    local S = vnet.session

    it("undoes a transaction that raises halfway, and the error goes on", H.sandboxed(function()
      local before = #S.list()
      local ok, err = pcall(S.transaction, function()
        assert(vnet.veth.create("ta", "tb"))
        assert(vnet.netns.create("own-tx"))
        assert(vnet.link.set("lo", { mtu = 1500 }))
        error("half way")
      end)
      assert.is_false(ok)
      assert.matches("session_spec.lua:%d+: half way$", err)
      assert.is_nil(H.iplink("ta"))
      assert.is_nil(H.iplink("tb"))
      assert.is_nil(H.sh("ip netns list"):find("own-tx", 1, true))
      assert.are.equal(65536, H.iplink("lo").mtu)
      assert.are.equal(before, #S.list())
      assert.are.same({ 1, 2 }, { S.transaction(function() return 1, 2 end) })
    end))

    it("forgets what it made in an anonymous namespace when that is closed (its inode number may come back)",
      H.sandboxed(function()
      local before = #S.list()
      local ns = assert(vnet.netns.create())
      ns:run(function()
        local a = assert(vnet.veth.create("fa", "fb"))
        assert(a:addr_add("10.8.0.1/24"))
      end)
      assert.are.equal(before + 3, #S.list())
      ns:close()
      assert.are.equal(before, #S.list())
    end))

    it("brings a link it did not make back from an anonymous namespace being closed", H.sandboxed(function()
      H.sh("ip link add ac0 type veth peer name ac1")
      -- (entries about ac0 only: a namespace made here drops older entries
      -- left under its inode number, so the whole list may shrink)
      local function ac0()
        local n = 0
        for _, e in ipairs(S.list()) do if e.name == "ac0" then n = n + 1 end end
        return n
      end
      local before = ac0()
      local ns = assert(vnet.netns.create())
      local l = assert(vnet.link.get("ac0"))
      assert(l:set { netns = ns })
      assert(l:set { name = "acin", mtu = 1280 })
      assert.is_nil(H.iplink("ac0"))
      local function shown()
        local t = {}
        for _, e in ipairs(S.list()) do t[#t + 1] = e.kind .. " " .. tostring(e.name) .. ": " .. tostring(e.undo) end
        return table.concat(t, "\n")
      end
      assert.are.equal(before + 2, ac0(), shown())
      ns:close() -- a veth would go with the namespace: it comes back first
      assert.are.equal(1500, H.iplink("ac0").mtu)
      assert.is_truthy(H.iplink("ac1"))
      assert.are.equal(before, ac0())
      H.sh("ip link del ac0")
    end))

    it("lists what it owns, undoes part of it, and lets go on request", H.sandboxed(function()
      local before = #S.list()
      local a = assert(vnet.veth.create("la", "lb"))
      assert(a:addr_add("10.7.0.1/24"))
      local br = assert(vnet.bridge.create { name = "lbr" })
      local l = S.list()
      assert.are.equal(before + 4, #l, require("dkjson").encode(l))
      assert.are.same({ "link", "veth", "la", "link.delete la" },
        { l[before + 1].kind, l[before + 1].type, l[before + 1].name, l[before + 1].undo })
      assert.are.same({ "addr", "10.7.0.1/24", "addr.del la 10.7.0.1/24" },
        { l[before + 3].kind, l[before + 3].name, l[before + 3].undo })
      assert.are.equal("lbr", l[before + 4].name)
      assert(S.undo(1)) -- the newest: the bridge
      assert.is_nil(H.iplink("lbr"))
      assert.is_truthy(H.iplink("la"))
      assert.is_true(a:keep())
      assert.are.equal(before, #S.list())
      assert(a:addr_add("10.7.0.2/24")) -- done on a link let go of: stays too
      assert(a:set { mtu = 1400 })
      assert.are.equal(before, #S.list())
      assert.are.equal(0, H.iplink("la").group == "default" and 0 or -1)
      assert(S.undo())
      assert.is_truthy(H.iplink("la"), "let go of, so not undone")
      assert(vnet.link.delete("la"))
      assert.has_error(function() S.undo("x") end,
        "session.undo: expected nothing, a count or a list of ids (got string)")
    end))

    it("undoes a link at the end of its <close> scope, and on :close()", H.sandboxed(function()
      local before = #S.list()
      local x = assert(vnet.veth.create("da", "db"))
      assert(x:delete())
      assert.are.equal(before, #S.list(), "a deleted veth leaves no entry (of either end)")
      do
        local a <close> = assert(vnet.veth.create("ca", "cb"))
        assert.is_truthy(H.iplink("cb"))
      end
      assert.is_nil(H.iplink("ca"))
      assert.is_nil(H.iplink("cb"))
      local br = assert(vnet.bridge.create { name = "cbr" })
      assert.is_true(br:close())
      assert.is_nil(H.iplink("cbr"))
      assert.are.equal(before, #S.list())
    end))

    it("restores what it changed on a link it did not make, and never removes it", H.sandboxed(function()
      assert(vnet.veth.create("pre0", "pre1", { persist = true }))
      local script = H.tmpscript([[
        local l = assert(vnet.link.get("pre0"))
        local br = assert(vnet.bridge.create { name = "pbr" })
        assert(l:set { mtu = 1400, up = true, master = br })
        assert(l:addr_add("10.8.0.1/24"))
        assert(vnet.route.add { dst = "10.9.0.0/24", via = "10.8.0.2" })
        local lo = assert(vnet.link.get("lo"))
        do local x <close> = lo end
        assert(vnet.link.get("lo").up, "closing a link it did not make keeps it")
        print(#vnet.session.list())
        io.stdout:flush()
        if ... == "error" then error("boom") end
        if ... == "kill" then os.execute("kill -KILL " .. io.open("/proc/self/stat"):read("n")) end
      ]])
      for _, way in ipairs { "exit", "error", "kill" } do
        local out = H.sh(H.vnet .. " " .. script .. " " .. way)
        assert.matches("^4\n", out)
        H.eventually(function() -- after a SIGKILL: the guardian's work
          return H.iplink("pre0").mtu == 1500 and not H.iplink("pbr")
        end)
        local l = H.iplink("pre0")
        assert.is_truthy(l, out)
        assert.are.same({ 1500, false, nil }, { l.mtu, H.has_flag(l, "UP"), l.master })
        assert.are.same({}, l.addr_info or H.ip("addr show dev pre0")[1].addr_info)
        assert.is_nil(H.iplink("pbr"))
      end
      os.remove(script)
      assert(vnet.link.delete("pre0"))
    end))

    -- What the session must give back, in the namespace ns (nil: this one):
    -- each link's name, MAC, MTU, txqueuelen, up, master, group and port
    -- options (ifindexes may change), addresses, routes and neighbours.
    local function state(ns)
      local n = ns and ("-n " .. ns .. " ") or ""
      local out = {}
      for _, l in ipairs(H.ip(n .. "link show") or {}) do
        local sd = l.linkinfo and l.linkinfo.info_slave_data or {}
        local master = l.master
        out[#out + 1] = table.concat({ l.ifname, tostring(l.address), l.mtu, tostring(l.txqlen),
          tostring(H.has_flag(l, "UP")), tostring(master), tostring(l.group),
          tostring(sd.hairpin), tostring(sd.cost), tostring(sd.learning) }, " ")
      end
      for _, l in ipairs(H.ip(n .. "addr show") or {}) do
        for _, a in ipairs(l.addr_info or {}) do
          if a.scope ~= "link" then out[#out + 1] = l.ifname .. " " .. a["local"] .. "/" .. a.prefixlen end
        end
      end
      out[#out + 1] = H.sh("ip " .. n .. "route show table all | grep -v '^local\\|fe80\\|multicast' | sort")
      out[#out + 1] = H.sh("ip " .. n .. "neigh show")
      table.sort(out)
      return table.concat(out, "\n")
    end

    it("gives back every change to what it did not make, in any namespace, however it ends (issue 11)",
      H.sandboxed(function()
      local pre = "own-pre" .. H.mypid()
      local setup = "ip link add q0 type veth peer name q1; ip link add qbr type bridge; " ..
        "ip link set q1 master qbr; ip link add m0 type veth peer name m0p; " ..
        "ip link add m1 type veth peer name m1p; ip netns add " .. pre .. "; " ..
        "ip -n " .. pre .. " link add r0 type veth peer name r1; ip -n " .. pre .. " link set r0 up"
      local script = H.tmpscript([[
        local pre, way = ...
        local l = assert(vnet.link.get("q0"))
        assert(l:set { name = "q0x", address = "02:00:00:00:00:aa", txqueuelen = 77 })
        assert(l:set { mtu = 1400, up = true })
        assert(l:addr_add("10.5.0.1/24"))
        assert(vnet.route.add { dst = "10.6.0.0/24", via = "10.5.0.2" })
        assert(vnet.route.add { dst = "fd00:6::/64", dev = "q0x", metric = 7 })
        assert(vnet.neigh.add("q0x", "10.5.0.9", "02:00:00:00:00:09"))
        assert(vnet.bridge.port("q1", { hairpin = true, cost = 77, learning = false }))
        local ns = assert(vnet.netns.open(pre))   -- a namespace it did not make
        ns:run(function()
          local r = assert(vnet.link.get("r0"))
          assert(r:addr_add("10.7.0.1/24"))
          assert(vnet.route.add { dst = "10.8.0.0/24", via = "10.7.0.2", table = 300 })
          assert(vnet.neigh.add("r0", "10.7.0.5", "02:00:00:00:00:05"))
        end)
        local made = assert(vnet.netns.create("own-made" .. pre))
        local m0 = assert(vnet.link.get("m0"))
        assert(m0:set { netns = made })          -- into a namespace it made, renamed there
        assert(m0:set { name = "m0in" })
        local anon = assert(vnet.netns.create())
        local m1 = assert(vnet.link.get("m1"))
        assert(m1:set { netns = anon })          -- into an anonymous one
        assert(m1:set { name = "m1in", mtu = 1300 })
        assert(vnet.link.get("m0") == nil and vnet.link.get("m1") == nil)
        print(#vnet.session.list())
        io.stdout:flush()
        if way == "error" then error("boom") end
        local pid = io.open("/proc/self/stat"):read("n")
        if way ~= "exit" then -- (os.execute's system() would hold SIGINT off)
          os.execute("(sleep 0.1; kill -" .. way .. " " .. pid .. ") &")
          while true do end
        end
      ]])
      for _, way in ipairs { "exit", "error", "INT", "TERM", "HUP", "KILL" } do
        H.sh(setup)
        local before, before_pre = state(), state(pre)
        local out = H.sh(H.vnet .. " " .. script .. " " .. pre .. " " .. way)
        assert.matches("^15\n", out)
        local after, after_pre
        H.eventually(function() -- after a SIGKILL: the guardian's work
          after, after_pre = state(), state(pre)
          return after == before and after_pre == before_pre
        end)
        assert.are.equal(before, after, way .. ": " .. out)
        assert.are.equal(before_pre, after_pre, way .. ": " .. out)
        assert.is_nil(H.sh("ip netns list"):find("own-made", 1, true), way)
        assert.are.equal("", H.sh("pgrep -x vnet-guardian -P $$ ; true"))
        H.sh("ip link del q0; ip link del qbr; ip link del m0; ip link del m1; ip netns del " .. pre)
      end
      os.remove(script)
    end))

    it("kills what ns:exec started when the session is killed, so no process holds its namespaces",
      H.sandboxed(function()
      local script = H.tmpscript([[
        local ns = assert(vnet.netns.create("own-exec" .. ...))
        ns:run(function() assert(vnet.veth.create("xa", "xb")) end)
        vnet.loop.spawn(function() ns:exec { "sleep", "77." .. ... } end)
        vnet.loop.after(0.3, function()
          os.execute("kill -KILL " .. io.open("/proc/self/stat"):read("n"))
        end)
        vnet.loop.run()
      ]])
      local out = H.sh(H.vnet .. " " .. script .. " " .. H.mypid())
      os.remove(script)
      local mine = "pgrep -f '^sleep 77." .. H.mypid() .. "$'"
      H.eventually(function() return H.sh(mine) == "" end)
      assert.are.equal("", H.sh(mine), out)
      assert.is_nil(H.sh("ip netns list"):find("own-exec", 1, true), out)
    end))

    it("REPL: `_` and Out keep what the prompt made; leaving it undoes the session", H.sandboxed(function()
      local input = os.tmpname()
      local f = assert(io.open(input, "w"))
      f:write('vnet.tun.open{name="rt0"}\n', 'collectgarbage() collectgarbage()\n',
        'print(_.name, Out[1] == _, vnet.link.get("rt0") ~= nil)\n', '1 + 1\n', 'print(_, __.name)\n',
        'vnet.veth.create("ra", "rb")\n', 'vnet.link.get("ra").name\n')
      f:close()
      local out = H.sh(H.vnet .. " -i < " .. input)
      os.remove(input)
      assert.matches("rt0\ttrue\ttrue\n", out)
      assert.matches("> 2\trt0\n", out)
      assert.matches('"ra"', out)
      assert.is_nil(H.iplink("ra"))
      assert.is_nil(H.iplink("rt0"))
    end))

    it("keeps everything with vnet --keep and session.keep()", H.sandboxed(function()
      local out = H.sh(H.vnet .. " --keep -e 'assert(vnet.veth.create(\"kk0\", \"kk1\"))'")
      assert.are.equal("", out)
      assert.is_truthy(H.iplink("kk0"))
      out = H.sh(H.vnet .. " -e 'assert(vnet.bridge.create{name=\"kk2\"}) vnet.session.keep()'")
      assert.is_truthy(H.iplink("kk2"), out)
      assert(vnet.link.delete("kk0"))
      assert(vnet.link.delete("kk2"))
      out = H.sh(H.vnet .. " -e 'assert(vnet.netns.create(\"own-np1\", { persist = true }))" ..
        " assert(vnet.netns.create(\"own-np2\")):keep() assert(vnet.netns.create(\"own-np3\"))'")
      local list = H.sh("ip netns list")
      assert.are.same({ true, true, false },
        { list:find("own-np1", 1, true) ~= nil, list:find("own-np2", 1, true) ~= nil,
          list:find("own-np3", 1, true) ~= nil }, out)
      H.sh("ip netns del own-np1; ip netns del own-np2")
    end))
  end)
end)
