-- vnet.netns: anonymous namespaces held by an object, and run().
local H = require "spec.helper"
local netns = vnet.netns

describe("vnet.netns", function()
  it("creates a fresh namespace and runs code inside it", function()
    local home <close> = assert(netns.current())
    local ns <close> = assert(netns.create())
    assert.are_not.equal(home:id(), ns:id())
    local inside = ns:run(function() return assert(netns.current()):id() end)
    assert.are.equal(ns:id(), inside)
    assert.are.equal(home:id(), assert(netns.current()):id())
    assert.matches("^vnet.netns: %(anonymous%) %(fd %d+%)$", tostring(ns))
  end)

  it("returns to the original namespace when the function raises", function()
    local home <close> = assert(netns.current())
    local ns <close> = assert(netns.create())
    assert.has_error(function() ns:run(function() error("inside", 0) end) end, "inside")
    assert.are.equal(home:id(), assert(netns.current()):id())
  end)

  it("passes arguments and results through run", function()
    local ns <close> = assert(netns.create())
    assert.are.same({ 3, "x" }, { ns:run(function(a, b) return a + b, "x" end, 1, 2) })
  end)

  it("keeps devices made inside out of the machine's namespace", function()
    local before = H.host_state()
    local ns <close> = assert(netns.create())
    local dev = ns:run(function()
      local d = assert(vnet.tun.open { name = "nsonly0", persist = true })
      assert.is_not_nil(H.iplink("nsonly0"))
      return d
    end)
    assert.is_nil(H.iplink("nsonly0"))
    assert.are.equal(before, H.host_state())
    dev:close()
  end)

  it("raises on use after close", function()
    local ns = assert(netns.create())
    ns:close()
    assert.has_error(function() ns:run(print) end, "attempt to use a closed netns")
  end)
end)
