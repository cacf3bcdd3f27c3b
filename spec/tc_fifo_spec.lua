-- vnet.tc.qdisc with the fifo kinds and with kinds vnet cannot describe:
-- pfifo/bfifo carry their limit (tc -j as witness); pfifo_fast, which
-- made libnl abort the process on an assertion, and a fifo without a limit
-- (which libnl refuses with a bare EINVAL) are refused at the caller's line.
local H = require "spec.helper"
local json = require "dkjson"
local sandboxed = H.sandboxed
local tc, veth = vnet.tc, vnet.veth

local function qdiscs(dev)
  local out, code = H.sh("tc -j qdisc show dev " .. dev)
  assert(code == 0, out)
  return json.decode(out)
end

local function root_of(dev)
  for _, q in ipairs(qdiscs(dev)) do if q.root then return q end end
end

describe("vnet.tc.qdisc", function()
  H.keeps_host_state(setup, teardown)

  it("sets pfifo and bfifo with their limit, as tc shows them and tc.list reads them", sandboxed(function()
    assert(veth.create("t0", "t1"))
    assert.is_true(tc.qdisc("t0", { kind = "pfifo", limit = 50 }))
    local q = root_of("t0")
    assert.are.same({ "pfifo", 50 }, { q.kind, q.options.limit })
    assert.is_true(tc.qdisc("t0", { kind = "bfifo", limit = "30kb" }))
    q = root_of("t0")
    assert.are.same({ "bfifo", 30720 }, { q.kind, q.options.limit })
    local l = assert(tc.list("t0"))
    assert.are.same({ "bfifo", 30720 }, { l[1].kind, l[1].limit })
  end))

  it("refuses a kind it cannot describe and a fifo without its limit, at the caller's line, changing nothing", sandboxed(function()
    assert(veth.create("t0", "t1"))
    local before = qdiscs("t0")
    local ok, err = pcall(tc.qdisc, "t0", { kind = "pfifo_fast" }); local line = debug.getinfo(1, "l").currentline
    assert.is_false(ok)
    assert.are.equal("spec/tc_fifo_spec.lua:" .. line ..
      ": tc.qdisc: kind 'pfifo_fast' is not supported (known: bfifo, htb, netem, pfifo, tbf)", err)
    ok, err = pcall(tc.qdisc, "t0", { kind = "bfifo" }); line = debug.getinfo(1, "l").currentline
    assert.are.equal("spec/tc_fifo_spec.lua:" .. line .. ": tc.qdisc: kind 'bfifo' needs option 'limit' (bytes)", err)
    ok, err = pcall(tc.qdisc, "t0", { kind = "pfifo", limit = -1 })
    assert.is_false(ok)
    assert.matches("tc.qdisc: option 'limit'", err, 1, true)
    assert.are.same(before, qdiscs("t0"))
  end))
end)
