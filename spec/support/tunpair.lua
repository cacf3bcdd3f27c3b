-- Two namespaces joined through two TUNs, for a Lua forwarder to join:
-- A (10.200.0.1, dev fa) <-> B (10.200.0.2, dev fb). opts: tun.open's
-- options for both; apeer: the address A's side points at instead of B's
-- (for NAT). -> A, B, fa, fb (the namespaces and the devices)
-- .lab(opts, apeer): the same as one to-be-closed value, lab.A, lab.B,
-- lab.fa, lab.fb, closed with it (the devices first, ending their watchers).
local function pair(opts, apeer)
  local function side(name, me, peer)
    local ns = assert(vnet.netns.create())
    local dev = ns:run(function()
      assert(vnet.link.set("lo", { up = true }))
      local o = { name = name }
      for k, v in pairs(opts or {}) do o[k] = v end
      local d = assert(vnet.tun.open(o))
      assert(d:addr_add(me, { peer = peer }))
      assert(d:up())
      return d
    end)
    return ns, dev
  end
  local A, fa = side("fa", "10.200.0.1", apeer or "10.200.0.2")
  local B, fb = side("fb", "10.200.0.2", "10.200.0.1")
  return A, B, fa, fb
end

local function lab(opts, apeer)
  local A, B, fa, fb = pair(opts, apeer)
  return setmetatable({ A = A, B = B, fa = fa, fb = fb }, {
    __close = function(t) t.fa:close(); t.fb:close(); t.A:close(); t.B:close() end,
  })
end

return setmetatable({ lab = lab }, { __call = function(_, ...) return pair(...) end })
