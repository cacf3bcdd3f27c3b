-- `vnet --netns NAME` and `vnet --sandbox`: a script run inside a named
-- namespace, or in a sandbox (fresh user, network and mount namespaces)
-- that confines root too, and the errors when that cannot be done.
local H = require "spec.helper"
local V = H.vnet

local tmpscript = H.tmpscript

describe("vnet --sandbox and --netns", function()
  H.keeps_host_state(setup, teardown)

  it("--sandbox runs the script in a fresh namespace with lo up", H.sandboxed(function()
    local s = tmpscript([[
      local names = {}
      for _, l in ipairs(assert(vnet.link.list())) do names[#names + 1] = l.name .. (l.up and "+" or "") end
      print(table.concat(names, " "))
      assert(vnet.veth.create("sb0", "sb1"))
      print(vnet.route.get("127.0.0.1").dev)
    ]])
    local out, rc = H.sh(V .. " --sandbox " .. s .. " a b")
    os.remove(s)
    assert.are.same({ "lo+\nlo\n", 0 }, { out, rc })
    assert.is_nil(H.iplink("sb0")) -- it stayed in there, and went with it
  end))

  it("--sandbox works for a user without privileges, where user namespaces are allowed", H.sandboxed(function()
    local s = tmpscript([[
      local a = assert(vnet.veth.create("u0", "u1", { up = true }))
      assert(a:addr_add("10.60.0.1/24"))
      print(#vnet.link.list(), vnet.netns.current():exec { "id", "-u" })
    ]])
    local out, rc = H.sh("setpriv --reuid=65534 --regid=65534 --clear-groups " .. V .. " --sandbox " .. s)
    os.remove(s)
    if rc ~= 0 and out:find("this system does not let users make user namespaces", 1, true) then
      H.skip("unprivileged user namespaces are disabled here")
    end
    assert.are.same({ "3\t0\t0\n\n", 0 }, { out, rc }) -- root inside, nobody outside
  end))

  -- What a sandboxed script tries, to see or reach the machine's own links
  -- (issue 9: as root it could setns back and change them). One line per
  -- attempt; the spec compares them whole.
  local probe = [[
    local host_link, host_ns, file = ...
    local function say(k, ...) print(k .. ": " .. table.concat(table.pack(...), " ", 1, select("#", ...))) end
    local function names(list) local t = {} for _, x in ipairs(list) do t[#t + 1] = x.name or x end return table.concat(t, ",") end
    say("links", names(assert(vnet.link.list())))
    -- (the links /sys shows: its directories; bonding_masters, a file the
    -- bonding module adds to every namespace's view, is not a link)
    local sys = io.popen("for l in /sys/class/net/*/; do basename $l; done | tr '\n' ' '"); say("sys", sys:read("a")); sys:close()
    say("named", names(vnet.netns.list()))
    local stat = io.open("/proc/self/stat"):read("a")
    local parent = tonumber(stat:match("^%d+ %b() %S+ (%d+)")) -- the caller's shell, in its namespace
    for _, target in ipairs { 1, parent, "/run/netns/" .. host_ns } do
      local ns, err = vnet.netns.open(target)
      if ns then say("enter", ns:enter()) else say("enter", (err:gsub("pid %d+", "pid N"))) end
    end
    say("set", select(2, vnet.link.set(host_link, { up = true })))
    local a = assert(vnet.veth.create("sbx0", "sbx1"))
    say("move", select(2, a:set { netns = parent }))
    say("links", names(assert(vnet.link.list())))
    say("write", select(2, io.open(file, "a")))
  ]]

  local preexisting = {}
  for name in H.sh("ip netns list"):gmatch("(%S+)[^\n]*\n?") do preexisting[name] = true end

  local function confined(as)
    local hostns = "vnet-host-" .. math.random(100000)
    assert(H.sh("ip link add hostw0 type veth peer name hostw1") == "")
    local before = H.iplink("hostw0")
    local named = assert(vnet.netns.create(hostns))
    local file = os.tmpname() -- root's, 0600: the sandbox's root must not write it
    local s = tmpscript(probe)
    local out, rc = H.sh(as .. " sh -c '" .. V .. " --sandbox " .. s .. " hostw0 " .. hostns .. " " .. file .. "'")
    os.remove(s)
    local f = io.open(file); local written = f:read("a"); f:close()
    os.remove(file)
    -- the names the machine had before this spec are not the sandbox's doing
    local listed = H.sh("ip netns list"):gsub("[^\n]+\n?", function(line)
      return preexisting[line:match("^%S+")] and "" or nil
    end)
    assert(named:delete())
    if rc ~= 0 and out:find("this system does not let users make user namespaces", 1, true) then
      H.skip("unprivileged user namespaces are disabled here")
    end
    assert.are.same({ table.concat({
      "links: lo",
      "sys: lo ",
      "named: ",
      "enter: netns.open pid N: Permission denied",
      "enter: netns.open pid N: Permission denied",
      "enter: netns.open /run/netns/" .. hostns ..
        ": No such file or directory (no such namespace: see `ip netns list` or vnet.netns.list())",
      "set: link.set hostw0: No such device 19",
      "move: netns.open pid N: Permission denied 13",
      "links: lo,sbx1,sbx0",
      "write: " .. file .. ": Permission denied 13",
    }, "\n") .. "\n", 0 }, { out:gsub("pid %d+", "pid N"), rc })
    -- the machine's side, seen by iproute2: untouched
    assert.are.same(before, H.iplink("hostw0"))
    assert.are.equal("", written)
    assert.are.equal(hostns .. "\n", listed)
  end

  it("--sandbox confines root: its script cannot see or touch the machine's links (issue 9)",
    H.sandboxed(function() confined("") end))

  it("--sandbox confines a user the same way (issue 9)",
    H.sandboxed(function() confined("setpriv --reuid=65534 --regid=65534 --clear-groups") end))

  -- TUN and TAP in the sandbox: root's script is nobody outside, so a helper
  -- left outside opens /dev/net/tun for it (this machine's node is 0600)
  local tuns = [[
    local t = assert(vnet.tun.open { name = "sbt0" })
    assert(t:addr_add("10.61.0.1", { peer = "10.61.0.2" }))
    assert(t:up())
    local p = assert(vnet.tap.open { name = "sbp0" })
    local ns <close> = assert(vnet.netns.create())
    local inner = assert(ns:run(vnet.tun.open, { name = "sbi0" }))
    -- iproute2, run inside, is the witness
    local _, out = vnet.netns.current():exec { "ip", "-br", "link" }
    io.write((out:gsub(" +", " ")))
    _, out = ns:exec { "ip", "-br", "link", "show", "sbi0" }
    io.write((out:gsub(" +", " ")))
    print(t.name, p.name, inner.name)
  ]]

  -- /dev/net/tun is made `mode` for the run, in a mount namespace of its
  -- own, whatever this machine's node is
  local function tun_in_sandbox(as, mode)
    local s = tmpscript(tuns)
    local out, rc = H.sh("unshare --mount sh -c 'mount -t tmpfs tmpfs /dev/net && " ..
      "mknod -m " .. mode .. " /dev/net/tun c 10 200 && exec " .. as .. " " .. V .. " --sandbox " .. s .. "'")
    local left = H.sh("pgrep -c -x -f '" .. (V .. " --sandbox " .. s):gsub("%p", "\\%0") .. "'")
    os.remove(s)
    assert.are.same({ "lo UNKNOWN 00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> \n" ..
      "sbt0 UNKNOWN <POINTOPOINT,MULTICAST,NOARP,UP,LOWER_UP> \n" ..
      "sbp0 DOWN " .. out:match("sbp0 DOWN (%x%x:%x%x:%x%x:%x%x:%x%x:%x%x)") .. " <BROADCAST,MULTICAST> \n" ..
      "sbi0 DOWN <POINTOPOINT,MULTICAST,NOARP> \n" ..
      "sbt0\tsbp0\tsbi0\n", 0 }, { out, rc })
    assert.are.equal("0\n", left) -- vnet and its helper outside are gone
    assert.is_nil(H.iplink("sbt0"))
  end

  it("--sandbox gives root's script TUN and TAP devices, where /dev/net/tun is root's alone", H.sandboxed(function()
    tun_in_sandbox("", "600") -- the helper outside opens it
  end))

  it("--sandbox gives a user's script TUN and TAP where /dev/net/tun is open to all", H.sandboxed(function()
    tun_in_sandbox("setpriv --reuid=65534 --regid=65534 --clear-groups", "666")
  end))

  it("--netns NAME runs the script inside the named namespace", function()
    local name = "vnet-sb-" .. math.random(100000)
    local ns = assert(vnet.netns.create(name))
    local ok, err = pcall(function()
      ns:run(function() assert(vnet.bridge.create { name = "inside0" }) end)
      local s = tmpscript('print(vnet.link.get("inside0").kind, ...)')
      local out, rc = H.sh(V .. " --netns " .. name .. " " .. s .. " x")
      os.remove(s)
      assert.are.same({ "bridge\tx\n", 0 }, { out, rc })
      -- -e and the REPL's other options still work around it
      out, rc = H.sh(V .. " --netns " .. name .. " -e 'print(#vnet.link.list())'")
      assert.are.same({ "2\n", 0 }, { out, rc })
    end)
    assert(ns:delete())
    assert.is_true(ok, err)
  end)

  it("says what is wrong when it cannot", function()
    local out, rc = H.sh(V .. " --netns vnet-no-such-ns -e 'print(1)'")
    assert.are.equal(1, rc)
    assert.are.equal(V .. ": --netns vnet-no-such-ns: No such file or directory (no namespace of that " ..
      "name; see `ip netns list`, or make one with `ip netns add`)\n", out)
    out, rc = H.sh(V .. " --netns")
    assert.are.equal(1, rc)
    assert.are.equal(V .. ": '--netns' needs argument (" .. V .. " --help)\n", out)
    out, rc = H.sh(V .. " --netns /etc/hostname -e 'print(1)'")
    assert.are.equal(1, rc)
    assert.matches("--netns /etc/hostname: Invalid argument (not a network namespace)", out, 1, true)
    out = H.sh(V .. " --help")
    assert.matches("--sandbox", out, 1, true)
    assert.matches("--netns NAME", out, 1, true)
  end)
end)
