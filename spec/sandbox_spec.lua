-- `vnet --netns NAME` and `vnet --sandbox`: a script run inside a named
-- namespace, or in a fresh private one (in a fresh user namespace when
-- not root), and the errors when that cannot be done.
local H = require "spec.helper"
local V = H.vnet

local tmpscript = H.tmpscript

describe("vnet --sandbox and --netns", function()
  local before
  setup(function() before = H.host_state() end)
  teardown(function()
    assert.are.equal(before, H.host_state(), "the machine's own namespace changed")
  end)

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
